// Prompts, as lcb_runner/prompts/code_generation.py builds them for chat models.
//
//   generic_chat   (LMStyle.OpenAIChat and other chat APIs; the default)
//       system: kSystemMessage
//       user:   "### Question:\n{content}\n\n### Format: {format}\n```python\n{starter or
//                # YOUR CODE HERE}\n```\n\n### Answer: (use the provided format with backticks)\n\n"
//   system_in_user (LMStyle.OpenAIReasonPreview, Grok): no system turn; the user turn is
//       kSystemMessage + "\n\n" + the same question.
//   reasoning_main (LMStyle.OpenAIReason): like system_in_user, but stdin problems ask for a
//       main() function called at the end (official text, "orchastrates" typo included).
#pragma once

#include "gemma4_eval/chat_backend.h"
#include "livecodebench/problem.h"

#include <string>
#include <vector>

namespace gemma4::eval::livecodebench {

enum class PromptStyle { generic_chat, system_in_user, reasoning_main };

inline constexpr const char* kSystemMessage =
    "You are an expert Python programmer. You will be given a question (problem specification) and "
    "will generate a correct Python program that matches the specification and passes all tests.";

inline constexpr const char* kFormatWithStarterCode =
    "You will use the following starter code to write the solution to the problem and enclose your "
    "code within delimiters.";

inline constexpr const char* kFormatWithoutStarterCode =
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test "
    "on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python "
    "program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.";

inline constexpr const char* kFormatMainFunction =
    "Implement a function called `main()` which orchastrates the solution by reading inputs from stdin "
    "and writing the answer to stdout. Feel free to use additional functions as necessary. Next do NOT "
    "forget to call `main` function at the end of the program otherwise you will not be awarded any points.";

// The user-turn text for one problem.
inline std::string question_prompt(const Problem& problem, PromptStyle style = PromptStyle::generic_chat) {
  std::string prompt = "### Question:\n" + problem.question_content + "\n\n";
  if (!problem.starter_code.empty()) {
    prompt += std::string("### Format: ") + kFormatWithStarterCode + "\n";
    prompt += "```python\n" + problem.starter_code + "\n```\n\n";
  } else {
    prompt += std::string("### Format: ") +
              (style == PromptStyle::reasoning_main ? kFormatMainFunction : kFormatWithoutStarterCode) + "\n";
    prompt += "```python\n# YOUR CODE HERE\n```\n\n";
  }
  prompt += "### Answer: (use the provided format with backticks)\n\n";
  return prompt;
}

inline std::vector<ChatMessage> build_messages(const Problem& problem, PromptStyle style = PromptStyle::generic_chat) {
  auto message = [](const char* role, std::string content) {
    ChatMessage m;
    m.role = role;
    m.content = std::move(content);
    return m;
  };
  if (style == PromptStyle::generic_chat)
    return {message("system", kSystemMessage), message("user", question_prompt(problem, style))};
  return {message("user", std::string(kSystemMessage) + "\n\n" + question_prompt(problem, style))};
}

}  // namespace gemma4::eval::livecodebench
