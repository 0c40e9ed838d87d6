// Airline tools on a self-written database, against the official environment's outputs.
#include <doctest/doctest.h>

#include "tau2/airline.h"
#include "tool_script_check.h"

using namespace gemma4::eval::tau2;
namespace py = gemma4::eval::py;

static const std::string kAirlineDir = std::string(TAU2_TEST_DATA) + "/airline";

TEST_CASE("airline: every tool call of the script matches the official environment") {
  auto env = airline::load_environment(kAirlineDir);
  tau2_test::check_tool_script(*env, kAirlineDir);
}

TEST_CASE("airline: tool schemas are the official OpenAI schemas") {
  auto env = airline::load_environment(kAirlineDir);
  const Json expected = tau2_test::read_json(std::string(TAU2_TEST_DATA) + "/expected_tool_schemas.json")["airline"];
  const Json ours = env->agent_tool_schemas();
  REQUIRE(ours.size() == expected.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    INFO(ours[i]["function"]["name"].get<std::string>());
    CHECK(py::dumps(ours[i]) == py::dumps(expected[i]["schema"]));  // same keys, same order
    const Tool& tool = env->tools().tools()[i];
    CHECK(std::string(to_string(tool.type)) == expected[i]["type"].get<std::string>());
    CHECK(tool.mutates_state == expected[i]["mutates"].get<bool>());
  }
}

TEST_CASE("airline: loading rejects a database with a missing field, naming it") {
  Json db = tau2_test::read_json(kAirlineDir + "/db.json");
  db["users"]["mia_li_3668"].erase("email");
  CHECK_THROWS_WITH_AS([&] { airline::AirlineTools t(db, "db.json"); }(), doctest::Contains("email"), ValidationError);
  Json extra = tau2_test::read_json(kAirlineDir + "/db.json");
  extra["planes"] = Json::object();
  CHECK_THROWS_WITH_AS([&] { airline::AirlineTools t(extra, "db.json"); }(), doctest::Contains("planes"), ValidationError);
}
