// report.md and its SVG chart: our scores beside Google's published Gemma 4 numbers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace gemma4::eval {

// Gemma 4 model card (instruction-tuned, thinking), percent: 31B, 26B-A4B, E4B, E2B.
struct PublishedScores {
  const char* benchmark;
  const char* label;
  double scores[4];
};
inline constexpr const char* kPublishedModels[4] = {"31B", "26B-A4B", "E4B", "E2B"};
inline constexpr PublishedScores kPublished[] = {
    {"mmlu_pro", "MMLU-Pro", {85.2, 82.6, 69.4, 60.0}},
    {"aime", "AIME 2026", {89.2, 88.3, 42.5, 37.5}},
    {"gpqa", "GPQA Diamond", {84.3, 82.3, 58.6, 43.4}},
    {"mmmu_pro", "MMMU-Pro", {76.9, 73.8, 52.6, 44.2}},
    {"livecodebench", "LiveCodeBench v6", {80.0, 77.1, 52.0, 44.0}},
    {"tau2", "τ²-bench (avg of 3)", {76.9, 68.2, 42.2, 24.5}},
};

inline const PublishedScores* published_for(const std::string& benchmark) {
  for (const auto& p : kPublished)
    if (benchmark == p.benchmark) return &p;
  return nullptr;
}

inline std::string fmt(double v, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// One group of horizontal bars per benchmark: ours (with its 95% interval) then the four
// published models. `results`: results.json objects.
inline std::string scores_svg(const std::vector<nlohmann::json>& results) {
  const int label_w = 170, bar_w = 420, row_h = 18, gap = 14, width = label_w + bar_w + 60;
  int height = 30;
  for (const auto& r : results) height += row_h * (1 + (published_for(r.at("benchmark")) ? 4 : 0)) + gap + 18;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  int y = 20;
  auto x_of = [&](double pct) { return label_w + static_cast<int>(pct / 100.0 * bar_w); };
  for (int t = 0; t <= 100; t += 20)
    s += "<line x1=\"" + std::to_string(x_of(t)) + "\" y1=\"12\" x2=\"" + std::to_string(x_of(t)) + "\" y2=\"" +
         std::to_string(height - 8) + "\" stroke=\"#ddd\"/><text x=\"" + std::to_string(x_of(t) - 6) +
         "\" y=\"10\" fill=\"#888\" font-size=\"9\">" + std::to_string(t) + "</text>\n";
  for (const auto& r : results) {
    const std::string bench = r.at("benchmark");
    const auto* pub = published_for(bench);
    s += "<text x=\"4\" y=\"" + std::to_string(y + 12) + "\" font-weight=\"bold\">" +
         xml_escape(pub ? pub->label : bench) + "</text>\n";
    y += 18;
    auto bar = [&](const std::string& label, double pct, const char* color, const std::string& extra) {
      s += "<text x=\"12\" y=\"" + std::to_string(y + 13) + "\">" + xml_escape(label) + "</text>";
      s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 2) + "\" width=\"" +
           std::to_string(x_of(pct) - label_w) + "\" height=\"" + std::to_string(row_h - 4) + "\" fill=\"" + color + "\"/>";
      s += extra;
      s += "<text x=\"" + std::to_string(x_of(pct) + 4) + "\" y=\"" + std::to_string(y + 13) + "\">" + fmt(pct) + "</text>\n";
      y += row_h;
    };
    const auto& m = r.at("metrics");
    const double ours = 100.0 * m.at("accuracy").get<double>();
    const double lo = 100.0 * m.at("ci95")[0].get<double>(), hi = 100.0 * m.at("ci95")[1].get<double>();
    const std::string whisker = "<line x1=\"" + std::to_string(x_of(lo)) + "\" y1=\"" + std::to_string(y + row_h / 2) +
                                "\" x2=\"" + std::to_string(x_of(hi)) + "\" y2=\"" + std::to_string(y + row_h / 2) +
                                "\" stroke=\"black\" stroke-width=\"1.5\"/>";
    bar("this run (" + r.value("model", std::string("model")) + ")", ours, "#1a73e8", whisker);
    if (pub)
      for (int k = 0; k < 4; ++k) bar(std::string("Gemma 4 ") + kPublishedModels[k] + " (card)", pub->scores[k], "#bbb", "");
    y += gap;
  }
  return s + "</svg>\n";
}

// A benchmark's own scores (Benchmark::summary_metrics) as nested bullets; fractions named
// pass@k / pass^k / avg_reward are shown as percentages, everything else as JSON.
inline std::string benchmark_metrics_markdown(const nlohmann::json& metrics, int depth = 0) {
  std::string md;
  const std::string indent(2 * depth, ' ');
  for (const auto& [key, value] : metrics.items()) {
    const bool fraction = key.rfind("pass@", 0) == 0 || key.rfind("pass^", 0) == 0 || key == "avg_reward" ||
                          key.rfind("mean_pass", 0) == 0;
    if (value.is_object()) {
      md += indent + "- " + key + ":\n" + benchmark_metrics_markdown(value, depth + 1);
    } else if (fraction && value.is_number()) {
      md += indent + "- " + key + ": " + fmt(100 * value.get<double>()) + "%\n";
    } else {
      md += indent + "- " + key + ": " + (value.is_string() ? "`" + value.get<std::string>() + "`" : value.dump()) + "\n";
    }
  }
  return md;
}

inline std::string report_markdown(const std::vector<nlohmann::json>& results, const std::string& svg_name) {
  std::string md = "# Gemma 4 evaluation report\n\n![scores](" + svg_name + ")\n\n";
  md += "| benchmark | score % | 95% CI | items | samples | unparsed | truncated | errors | published 31B / 26B-A4B / E4B / E2B |\n";
  md += "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : results) {
    const auto& m = r.at("metrics");
    const auto* pub = published_for(r.at("benchmark"));
    std::string published = "—";
    if (pub) published = fmt(pub->scores[0]) + " / " + fmt(pub->scores[1]) + " / " + fmt(pub->scores[2]) + " / " + fmt(pub->scores[3]);
    md += "| " + std::string(pub ? pub->label : r.at("benchmark").get<std::string>()) + " | " +
          fmt(100 * m.at("accuracy").get<double>()) + " | " + fmt(100 * m.at("ci95")[0].get<double>()) + "–" +
          fmt(100 * m.at("ci95")[1].get<double>()) + " | " + std::to_string(m.at("items").get<int>()) + " | " +
          std::to_string(m.at("samples_scored").get<int>()) + " | " + std::to_string(m["status_counts"].value("unparsed", 0)) +
          " | " + std::to_string(m["status_counts"].value("truncated", 0)) + " | " +
          std::to_string(m["status_counts"].value("error", 0)) + " | " + published + " |\n";
  }
  for (const auto& r : results) {
    const auto& m = r.at("metrics");
    md += "\n## " + r.at("benchmark").get<std::string>() + "\n\n";
    md += "- backend: `" + r.value("backend", std::string()) + "`\n";
    md += "- model: `" + r.value("model", std::string()) + "`, chat template: `" + r.value("chat_template", std::string("not recorded")) + "`\n";
    md += "- config hash: `" + r.value("config_hash", std::string()) + "`\n";
    md += "- settings: `" + r.value("settings", nlohmann::json::object()).dump() + "`\n";
    md += "- generation: `" + r.value("generation", nlohmann::json::object()).dump() + "`\n";
    md += "- mean completion tokens: " + fmt(m.value("mean_completion_tokens", 0.0), 0) + ", mean thought characters: " +
          fmt(m.value("mean_thought_chars", 0.0), 0) + "\n";
    md += "- accuracy excluding truncated samples: " + fmt(100 * m.value("accuracy_excluding_truncated", 0.0)) + "%\n";
    md += "- with the official random guess for unparsed answers (expected value): " +
          fmt(100 * m.value("accuracy_with_expected_random_fallback", 0.0)) + "% (" +
          std::to_string(m.value("fallback_random", 0)) + " samples would be guessed)\n";
    if (r.contains("benchmark_metrics")) md += benchmark_metrics_markdown(r["benchmark_metrics"]);
    if (m.contains("per_category") && m["per_category"].size() > 1) {
      md += "\n| category | score % | items |\n|---|---|---|\n";
      for (const auto& [cat, c] : m["per_category"].items())
        md += "| " + cat + " | " + fmt(100 * c.at("accuracy").get<double>()) + " | " + std::to_string(c.at("items").get<int>()) + " |\n";
    }
  }
  md += "\nPublished numbers: Gemma 4 model card (instruction-tuned, thinking on). Scores here are means over "
        "items of each item's mean over samples; the interval is a seeded percentile bootstrap over items.\n";
  return md;
}

inline void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp + ": cannot write");
    out << text;
    if (!out.flush()) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": cannot replace");
}

}  // namespace gemma4::eval
