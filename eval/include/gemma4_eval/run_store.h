// The run file: append-only JSON Lines, one finished sample per line, keyed by
// (benchmark, item, sample, config hash).
//
// Why it survives being killed at any moment: a sample is appended as one line with a single
// write(2) on an O_APPEND descriptor, after the model answered. If the process dies before the
// write, the sample is simply redone; if it dies mid-write, the file ends in a torn line, which
// no JSON parser accepts: on reopening it is skipped (counted), a newline is appended so the
// next record starts clean, and that sample is redone. Bytes are never rewritten or removed.
// Records with status "error" (the backend gave up) do not count as done, so resuming retries
// them; the latest record of a key wins when reading.
#pragma once

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

namespace gemma4::eval {

// FNV-1a 64, hex: a stable fingerprint of the settings that change results.
inline std::string config_hash(const nlohmann::json& config) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : config.dump()) h = (h ^ c) * 1099511628211ull;  // dump() sorts keys
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

struct SampleKey {
  std::string benchmark, item;
  int sample = 0;
  std::string config;
  auto operator<=>(const SampleKey&) const = default;
};

class RunStore {
 public:
  explicit RunStore(std::string path) : path_(std::move(path)) {
    bool ends_with_newline = true;
    {
      std::ifstream in(path_, std::ios::binary);
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        ++n;
        ends_with_newline = !in.eof();
        if (line.empty()) continue;
        nlohmann::json rec;
        SampleKey key;
        try {
          rec = nlohmann::json::parse(line);
          key = key_of(rec);
        } catch (const std::exception&) {
          ++torn_lines_;
          continue;
        }
        records_[key] = std::move(rec);
      }
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(path_ + ": cannot open for appending: " + std::strerror(errno));
    if (!ends_with_newline) write_all("\n");
  }
  ~RunStore() {
    if (fd_ >= 0) ::close(fd_);
  }
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  static SampleKey key_of(const nlohmann::json& rec) {
    return {rec.at("benchmark").get<std::string>(), rec.at("item").get<std::string>(), rec.at("sample").get<int>(),
            rec.at("config_hash").get<std::string>()};
  }

  bool done(const SampleKey& key) const {
    std::lock_guard lock(mutex_);
    const auto it = records_.find(key);
    return it != records_.end() && it->second.value("status", "") != "error";
  }

  void append(const nlohmann::json& rec) {
    const std::string line = rec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard lock(mutex_);
    write_all(line);
    ::fdatasync(fd_);
    const SampleKey key = key_of(rec);
    records_[key] = rec;
  }

  // The latest record of every key, in key order.
  std::vector<nlohmann::json> records() const {
    std::lock_guard lock(mutex_);
    std::vector<nlohmann::json> out;
    for (const auto& [k, v] : records_) out.push_back(v);
    return out;
  }
  int torn_lines() const { return torn_lines_; }
  const std::string& path() const { return path_; }

 private:
  void write_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
      off += static_cast<std::size_t>(n);
    }
  }

  std::string path_;
  int fd_ = -1;
  int torn_lines_ = 0;
  mutable std::mutex mutex_;
  std::map<SampleKey, nlohmann::json> records_;
};

}  // namespace gemma4::eval
