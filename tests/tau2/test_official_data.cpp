// Our loaders on the *official* data, when it has been fetched (tools/fetch_datasets.d/tau2.sh):
// database hashes, the assembled telecom policy and every user-simulator scenario must equal
// what the official code computes (hashes in data/official_data_expected.json). Skipped, with a
// message, when the data is absent. TAU2_DATA_DIR overrides the location.
#include <doctest/doctest.h>

#include "tau2/tau2.h"
#include "tool_script_check.h"

#include <cstdlib>
#include <filesystem>

using namespace gemma4::eval::tau2;

namespace {
std::string official_root() {
  if (const char* env = std::getenv("TAU2_DATA_DIR")) return env;
  return std::string(TAU2_TEST_DATA) + "/../../../datasets/tau2/data";
}
bool present(const std::string& root) { return std::filesystem::exists(root + "/tau2/domains/retail/tasks.json"); }
}  // namespace

TEST_CASE("official data: DB hashes, telecom policy and scenarios equal the official code's") {
  const std::string root = official_root();
  if (!present(root)) {
    MESSAGE("SKIPPED: official tau2 data not found at " << root << " (run tools/fetch_datasets.d/tau2.sh)");
    return;
  }
  const Json expected = tau2_test::read_json(std::string(TAU2_TEST_DATA) + "/official_data_expected.json");
  const std::string d = root + "/tau2/domains";
  CHECK(retail::load_environment(d + "/retail")->db_hash() == expected["retail_db_hash"].get<std::string>());
  auto tel = telecom::load_environment(d + "/telecom");
  CHECK(tel->db_hash() == expected["telecom_db_hash"].get<std::string>());
  CHECK(tel->user_db_hash() == std::optional<std::string>(expected["telecom_user_db_hash"].get<std::string>()));
  CHECK(sha256_hex(tel->policy()) == expected["telecom_policy_sha256"].get<std::string>());
  if (expected.contains("airline_db_hash") && std::filesystem::exists(d + "/airline/db.json"))
    CHECK(airline::load_environment(d + "/airline")->db_hash() == expected["airline_db_hash"].get<std::string>());
  for (const char* dom : {"airline", "retail", "telecom"}) {
    const auto tasks = tasks_from_json(load_json_file(d + "/" + dom + "/tasks.json"), dom);
    const Json& want = expected[std::string(dom) + "_scenarios"];
    int matched = 0;
    for (const auto& t : tasks) {
      if (!want.contains(t.id)) continue;
      ++matched;
      INFO(dom << " task " << t.id);
      CHECK(sha256_hex(t.user_instructions) == want[t.id].get<std::string>());
    }
    MESSAGE(std::string(dom) << ": " << matched << " scenarios compared");
    CHECK(matched > 0);
  }
}
