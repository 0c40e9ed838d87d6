// Telecom agent tools, the user's phone tools, set-up functions and assertions on a self-written
// database, against the official environment's outputs.
#include <doctest/doctest.h>

#include "tau2/telecom.h"
#include "tool_script_check.h"

using namespace gemma4::eval::tau2;
namespace py = gemma4::eval::py;

static const std::string kTelecomDir = std::string(TAU2_TEST_DATA) + "/telecom";

TEST_CASE("telecom: every call of the script matches the official environment (agent DB and user DB)") {
  telecom::default_vpn_is_poor() = false;
  auto env = telecom::load_environment(kTelecomDir);
  tau2_test::check_tool_script(*env, kTelecomDir);
}

TEST_CASE("telecom: agent and user tool schemas are the official OpenAI schemas") {
  auto env = telecom::load_environment(kTelecomDir);
  const Json all = tau2_test::read_json(std::string(TAU2_TEST_DATA) + "/expected_tool_schemas.json");
  for (const auto& [key, ours] : {std::pair{"telecom", env->agent_tool_schemas()}, std::pair{"telecom_user", env->user_tool_schemas()}}) {
    const Json& expected = all[key];
    REQUIRE(ours.size() == expected.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      INFO(key << " " << ours[i]["function"]["name"].get<std::string>());
      CHECK(py::dumps(ours[i]) == py::dumps(expected[i]["schema"]));
      const Tool& tool = std::string(key) == "telecom" ? env->tools().tools()[i] : env->user_tools()->tools()[i];
      CHECK(std::string(to_string(tool.type)) == expected[i]["type"].get<std::string>());
      CHECK(tool.mutates_state == expected[i]["mutates"].get<bool>());
    }
  }
}

TEST_CASE("telecom: the policy is assembled as the official get_environment does") {
  CHECK(telecom::assemble_policy("MAIN", "MANUAL") ==
        "<main_policy>\nMAIN\n</main_policy>\n<tech_support_policy>\nMANUAL\n</tech_support_policy>");
}

TEST_CASE("telecom: unknown set-up functions fail as getattr does; bad env types are refused") {
  auto env = telecom::load_environment(kTelecomDir);
  CHECK_THROWS_WITH(env->run_env_function("user", "fly_away", Json::object()), "'TelecomUserTools' object has no attribute 'fly_away'");
  CHECK_THROWS_WITH(env->run_env_function("nobody", "set_user_info", Json::object()), "Invalid environment type: nobody");
  // A tool method works as a set-up function too (tasks call disable_roaming this way).
  CHECK(env->run_env_function("assistant", "disable_roaming", Json{{"customer_id", "C1002"}, {"line_id", "L2001"}}) ==
        Json("Roaming disabled successfully"));
}
