#pragma once
#include <functional>

namespace gemma4::cli {
// The action of the chosen subcommand; returns the process exit status.
using Command = std::function<int()>;
}  // namespace gemma4::cli
