// Runs data/<domain>/tool_script.json through our environment and compares each tool message and
// the DB hash after each step with what the official environment produced
// (tool_script_expected.json, written by gen/run_tool_script.py).
#pragma once

#include <doctest/doctest.h>

#include "tau2/environment.h"

#include <fstream>
#include <string>

namespace tau2_test {

using gemma4::eval::tau2::Environment;
using gemma4::eval::tau2::Json;
using gemma4::eval::tau2::ToolCall;

// The self-written test data (tests/tau2/data).
inline const std::string kData = TAU2_TEST_DATA;

inline Json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return Json::parse(in);
}

// Pydantic's ValidationError text ends with "[type=..., input_value=...]" and a documentation URL
// that we do not reproduce; everything before it must match.
inline bool same_tool_text(const std::string& ours, const std::string& official) {
  if (ours == official) return true;
  if (official.rfind("Error: 1 validation error for ", 0) == 0) return official.rfind(ours, 0) == 0;
  return false;
}

inline void check_tool_script(Environment& env, const std::string& dir) {
  const Json script = read_json(dir + "/tool_script.json");
  const Json expected = read_json(dir + "/tool_script_expected.json");
  CHECK(env.db_hash() == expected["initial_db_hash"].get<std::string>());
  if (expected.contains("initial_user_db_hash") && expected["initial_user_db_hash"].is_string())
    CHECK(env.user_db_hash() == std::optional<std::string>(expected["initial_user_db_hash"].get<std::string>()));
  REQUIRE(script.size() == expected["steps"].size());
  for (size_t i = 0; i < script.size(); ++i) {
    const Json& want = expected["steps"][i];
    if (script[i].contains("env")) {  // an initialization action or assertion
      const Json& e = script[i]["env"];
      INFO("step " << i << " env function " << e["func_name"].get<std::string>() << " " << e["arguments"].dump());
      std::string content;
      bool error = false;
      try {
        content = gemma4::eval::tau2::tool_result_text(env.run_env_function(e["env_type"], e["func_name"], e["arguments"]));
      } catch (const std::exception& ex) {
        content = std::string("Error: ") + ex.what();
        error = true;
      }
      CHECK(error == want["error"].get<bool>());
      CHECK_MESSAGE(same_tool_text(content, want["content"].get<std::string>()),
                    "ours:     " << content << "\nofficial: " << want["content"].get<std::string>());
      CHECK(env.db_hash() == want["db_hash"].get<std::string>());
      if (want.contains("user_db_hash") && want["user_db_hash"].is_string())
        CHECK(env.user_db_hash() == std::optional<std::string>(want["user_db_hash"].get<std::string>()));
      continue;
    }
    ToolCall call;
    call.id = "call_" + std::to_string(i);
    call.name = script[i]["name"].get<std::string>();
    call.arguments = script[i]["arguments"];
    call.requestor = script[i].value("requestor", std::string("assistant"));
    const auto msg = env.get_response(call);
    INFO("step " << i << " " << call.name << " " << call.arguments.dump());
    CHECK(msg.error == want["error"].get<bool>());
    CHECK_MESSAGE(same_tool_text(*msg.content, want["content"].get<std::string>()),
                  "ours:     " << *msg.content << "\nofficial: " << want["content"].get<std::string>());
    CHECK(env.db_hash() == want["db_hash"].get<std::string>());
    if (want.contains("user_db_hash") && want["user_db_hash"].is_string())
      CHECK(env.user_db_hash() == std::optional<std::string>(want["user_db_hash"].get<std::string>()));
  }
}

}  // namespace tau2_test
