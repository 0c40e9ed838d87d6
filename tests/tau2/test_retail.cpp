// Retail tools on a self-written database, against the official environment's outputs.
#include <doctest/doctest.h>

#include "tau2/retail.h"
#include "tool_script_check.h"

using namespace gemma4::eval::tau2;
namespace py = gemma4::eval::py;

static const std::string kRetailDir = std::string(TAU2_TEST_DATA) + "/retail";

TEST_CASE("retail: every tool call of the script matches the official environment") {
  auto env = retail::load_environment(kRetailDir);
  tau2_test::check_tool_script(*env, kRetailDir);
}

TEST_CASE("retail: tool schemas are the official OpenAI schemas") {
  auto env = retail::load_environment(kRetailDir);
  const Json expected = tau2_test::read_json(std::string(TAU2_TEST_DATA) + "/expected_tool_schemas.json")["retail"];
  const Json ours = env->agent_tool_schemas();
  REQUIRE(ours.size() == expected.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO(ours[i]["function"]["name"].get<std::string>());
    CHECK(py::dumps(ours[i]) == py::dumps(expected[i]["schema"]));
    const Tool& tool = env->tools().tools()[i];
    CHECK(std::string(to_string(tool.type)) == expected[i]["type"].get<std::string>());
    CHECK(tool.mutates_state == expected[i]["mutates"].get<bool>());
  }
}
