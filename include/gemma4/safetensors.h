// Reading safetensors checkpoints: one file or a sharded set (model.safetensors.index.json),
// memory-mapped read-only and bounds-checked before any tensor is touched.
//
// Format: u64 little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// then the data block; offsets are relative to the data block.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gemma4/error.h"
#include "gemma4/tensor.h"

namespace gemma4 {

// A read-only memory map of a whole file; unmapped when the last owner goes away.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      fail(path, std::string("cannot stat: ") + std::strerror(errno));
    }
    size_ = size_t(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        fail(path, std::string("cannot mmap: ") + std::strerror(errno));
      }
      data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

inline DType parse_safetensors_dtype(const std::string& s, const std::string& where) {
  if (s == "F32") return DType::kF32;
  if (s == "BF16") return DType::kBF16;
  if (s == "F16") return DType::kF16;
  if (s == "I32") return DType::kI32;
  if (s == "I64") return DType::kI64;
  if (s == "U8" || s == "BOOL") return DType::kU8;
  fail(where, "unsupported dtype \"" + s + "\" (supported: F32, BF16, F16, I32, I64, U8, BOOL)");
}

// One .safetensors file. Every tensor entry is validated when the file is opened: known dtype,
// non-negative shape, offsets inside the data block and exactly dtype_size·numel bytes long.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path) : map_(std::make_shared<MappedFile>(path)) {
    const size_t size = map_->size();
    if (size < 8) fail(path, "truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_->data()[i];
    if (header_len > size - 8)
      fail(path, "truncated: header length " + std::to_string(header_len) + " exceeds the file size " +
                     std::to_string(size));
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(map_->data() + 8, map_->data() + 8 + header_len);
    } catch (const nlohmann::json::exception& e) {
      fail(path, std::string("malformed JSON header: ") + e.what());
    }
    if (!header.is_object()) fail(path, "JSON header is not an object");
    const uint8_t* data_block = map_->data() + 8 + header_len;
    const size_t data_size = size - 8 - size_t(header_len);
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") continue;
      const std::string where = path + ": tensor " + it.key();
      const auto& e = it.value();
      if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
        fail(where, "entry needs \"dtype\", \"shape\" and \"data_offsets\"");
      Weight w;
      w.name = it.key();
      if (!e["dtype"].is_string()) fail(where, "dtype is not a string");
      w.dtype = parse_safetensors_dtype(e["dtype"].get<std::string>(), where);
      if (!e["shape"].is_array()) fail(where, "shape is not an array");
      for (const auto& d : e["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0) fail(where, "shape has a non-integer or negative entry");
        w.shape.push_back(d.get<int64_t>());
      }
      const auto& off = e["data_offsets"];
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        fail(where, "data_offsets must be two non-negative integers");
      const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
      if (begin > end) fail(where, "data_offsets begin > end");
      if (end > data_size)
        fail(where, "truncated: data ends at byte " + std::to_string(end) + " of the data block, which has only " +
                        std::to_string(data_size) + " bytes");
      const uint64_t expected = uint64_t(num_elements(w.shape)) * dtype_size(w.dtype);
      if (end - begin != expected)
        fail(where, "holds " + std::to_string(end - begin) + " bytes, but " + dtype_name(w.dtype) + " " +
                        shape_str(w.shape) + " needs " + std::to_string(expected));
      if (begin % dtype_size(w.dtype) != 0)
        fail(where, "data offset " + std::to_string(begin) + " is not aligned to the element size");
      w.data = data_block + begin;
      w.owner = map_;
      tensors_.emplace(w.name, std::move(w));
    }
  }

  const std::string& path() const { return map_->path(); }
  const std::map<std::string, Weight>& tensors() const { return tensors_; }
  const Weight* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  // The tensor, or an Error naming the file and the missing tensor.
  const Weight& at(const std::string& name) const {
    const Weight* w = find(name);
    if (!w) fail(path(), "tensor " + name + " not found");
    return *w;
  }

 private:
  std::shared_ptr<MappedFile> map_;
  std::map<std::string, Weight> tensors_;
};

// All tensors of a checkpoint directory (or of one file): a single model.safetensors, or the
// shards listed by model.safetensors.index.json ("weight_map": {tensor: shard file}).
class TensorStore {
 public:
  TensorStore() = default;

  static TensorStore open(const std::string& path) {
    namespace fs = std::filesystem;
    TensorStore store;
    if (fs::is_directory(path)) {
      const fs::path index = fs::path(path) / "model.safetensors.index.json";
      const fs::path single = fs::path(path) / "model.safetensors";
      if (fs::exists(index)) {
        store.add_index(index.string());
      } else if (fs::exists(single)) {
        store.add_file(single.string());
      } else {
        fail(path, "no model.safetensors or model.safetensors.index.json in this directory");
      }
    } else if (path.size() >= 11 && path.substr(path.size() - 11) == ".index.json") {
      store.add_index(path);
    } else {
      store.add_file(path);
    }
    return store;
  }

  void add_file(const std::string& path) {
    files_.push_back(std::make_shared<SafetensorsFile>(path));
    for (const auto& [name, w] : files_.back()->tensors()) {
      if (index_.count(name)) fail(path, "tensor " + name + " also appears in " + index_[name]->path());
      index_[name] = files_.back().get();
    }
  }

  void add_index(const std::string& index_path) {
    namespace fs = std::filesystem;
    std::ifstream in(index_path);
    if (!in) fail(index_path, "cannot open");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(index_path, std::string("malformed JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      fail(index_path, "missing field \"weight_map\" (an object tensor -> shard file)");
    std::map<std::string, std::string> shard_of;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail(index_path, "weight_map." + it.key() + " is not a file name");
      shard_of[it.key()] = it.value().get<std::string>();
    }
    std::map<std::string, SafetensorsFile*> opened;
    const fs::path dir = fs::path(index_path).parent_path();
    for (const auto& [tensor, shard] : shard_of) {
      if (!opened.count(shard)) {
        files_.push_back(std::make_shared<SafetensorsFile>((dir / shard).string()));
        opened[shard] = files_.back().get();
      }
      SafetensorsFile* f = opened[shard];
      if (!f->find(tensor))
        fail(index_path, "weight_map says tensor " + tensor + " is in " + shard + ", but that file does not contain it");
      index_[tensor] = f;
    }
  }

  const Weight* find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second->find(name);
  }
  // Which file a tensor lives in (for error messages).
  std::string file_of(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? std::string() : it->second->path();
  }
  std::string describe() const {
    if (files_.empty()) return "(no files)";
    if (files_.size() == 1) return files_[0]->path();
    return files_[0]->path() + " (+" + std::to_string(files_.size() - 1) + " more shards)";
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, f] : index_) out.push_back(n);
    return out;
  }

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, SafetensorsFile*> index_;
};

}  // namespace gemma4
