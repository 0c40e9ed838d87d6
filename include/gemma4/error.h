// gemma4::Error: the one exception type the library throws for bad input.
//
// Every message names where the problem is (a file, and inside it the field or tensor) so a user
// handed a broken checkpoint knows exactly what to fix: "model.safetensors: tensor
// model.language_model.norm.weight: shape [31] does not match the expected [32]".
#pragma once

#include <stdexcept>
#include <string>

namespace gemma4 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("<where>: <what>").
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw Error(where.empty() ? what : where + ": " + what);
}

}  // namespace gemma4
