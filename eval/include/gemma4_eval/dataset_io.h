// Reading benchmark data files: JSON Lines with the official field names, and errors that name
// the file, the line and the field.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gemma4::eval {

struct DataError : std::runtime_error {
  DataError(const std::string& where, const std::string& field, const std::string& what)
      : std::runtime_error(where + ": field '" + field + "': " + what) {}
};

// Every non-empty line of a JSONL file, with "path:line" for error messages.
inline std::vector<std::pair<nlohmann::json, std::string>> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (run tools/fetch_datasets, or pass --data)");
  std::vector<std::pair<nlohmann::json, std::string>> rows;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(n);
    try {
      rows.emplace_back(nlohmann::json::parse(line), where);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(where + ": not valid JSON: " + e.what());
    }
    if (!rows.back().first.is_object()) throw std::runtime_error(where + ": expected a JSON object");
  }
  if (rows.empty()) throw std::runtime_error(path + ": no rows");
  return rows;
}

template <typename T>
T require(const nlohmann::json& row, const std::string& field, const std::string& where) {
  const auto it = row.find(field);
  if (it == row.end() || it->is_null()) throw DataError(where, field, "missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw DataError(where, field, std::string("has the wrong type (") + it->type_name() + ")");
  }
}

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace gemma4::eval
