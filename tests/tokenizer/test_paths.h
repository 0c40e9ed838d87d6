// Where the tests find the golden bundle and the shared fixtures.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace gemma4::test {

// reference_outputs/ of the checkout, or $GEMMA4_REFERENCE_OUTPUTS.
inline std::filesystem::path reference_outputs() {
  if (const char* env = std::getenv("GEMMA4_REFERENCE_OUTPUTS"); env && *env) return env;
  return std::filesystem::path(GEMMA4_SOURCE_DIR) / "reference_outputs";
}

// ../shared/fixtures beside the checkout (absent for users who clone the project).
inline std::filesystem::path fixtures() {
  return std::filesystem::path(GEMMA4_SOURCE_DIR) / ".." / "shared" / "fixtures";
}

// Path of a golden file, or nullopt (and a message saying why the test is skipped).
inline std::optional<std::filesystem::path> golden(const std::string& rel) {
  auto p = reference_outputs() / rel;
  if (!std::filesystem::exists(p)) {
    MESSAGE("SKIPPED: golden file " << p.string() << " is absent (generate it with tools/golden/generate.py)");
    return std::nullopt;
  }
  return p;
}

inline std::optional<std::filesystem::path> fixture(const std::string& rel) {
  auto p = fixtures() / rel;
  if (!std::filesystem::exists(p)) {
    MESSAGE("SKIPPED: fixture " << p.string() << " is absent");
    return std::nullopt;
  }
  return p;
}

inline nlohmann::ordered_json read_json(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::ordered_json::parse(in);
}

}  // namespace gemma4::test
