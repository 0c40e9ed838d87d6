// The orchestrator with scripted agent / user / judge backends.
#include <doctest/doctest.h>

#include "tau2/airline.h"
#include "tau2/orchestrator.h"
#include "tau2/retail.h"
#include "tau2/telecom.h"
#include "tool_script_check.h"

#include <deque>

using namespace gemma4::eval;
using namespace gemma4::eval::tau2;

using tau2_test::kData;

namespace {

// Replays canned answers in order and records every request.
class ScriptedBackend : public ChatBackend {
 public:
  explicit ScriptedBackend(std::string name) : name_(std::move(name)) {}
  ScriptedBackend& say(const std::string& text) {
    ChatResponse r;
    r.message.role = "assistant";
    r.message.content = text;
    answers_.push_back(r);
    return *this;
  }
  ScriptedBackend& call(const std::string& name, const std::string& arguments_json) {
    ChatResponse r;
    r.message.role = "assistant";
    r.message.tool_calls = nlohmann::json::array(
        {nlohmann::json{{"id", "tc" + std::to_string(answers_.size())}, {"type", "function"},
                        {"function", {{"name", name}, {"arguments", arguments_json}}}}});
    answers_.push_back(r);
    return *this;
  }
  ChatResponse chat(const ChatRequest& request) override {
    requests.push_back(request);
    if (answers_.empty()) throw std::runtime_error(name_ + ": script exhausted");
    ChatResponse r = answers_.front();
    if (!repeat_last_ || answers_.size() > 1) answers_.pop_front();
    return r;
  }
  std::string describe() const override { return "scripted:" + name_; }
  void repeat_last() { repeat_last_ = true; }
  std::vector<ChatRequest> requests;

 private:
  std::string name_;
  std::deque<ChatResponse> answers_;
  bool repeat_last_ = false;
};

struct AirlineFixture {
  Json db = load_json_file(kData + "/airline/db.json");
  std::vector<Task> tasks = tasks_from_json(load_json_file(kData + "/airline/tasks.json"), "tasks.json");
  const Task& task(const std::string& id) {
    for (auto& t : tasks)
      if (t.id == id) return t;
    throw std::runtime_error("no task " + id);
  }
  RunContext ctx(ChatBackend& agent, ChatBackend& user) {
    RunContext c;
    c.make_env = [this] { return airline::make_environment(db, "AIRLINE POLICY TEXT"); };
    c.user_guidelines = "# Guidelines<PERSONA_GUIDELINES>\nBe a customer.\n";
    c.user_guidelines_tools = "# Tool guidelines\n";
    c.agent = &agent;
    c.user = &user;
    return c;
  }
};

const char* kBook =
    R"({"user_id": "mia_li_3668", "origin": "JFK", "destination": "ORD", "flight_type": "one_way", "cabin": "economy",
        "flights": [{"flight_number": "HAT001", "date": "2024-05-20"}],
        "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}],
        "payment_methods": [{"payment_id": "credit_card_4421486", "amount": 110}],
        "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"})";

}  // namespace

TEST_CASE("orchestrator: a successful booking, turn by turn") {
  AirlineFixture f;
  ScriptedBackend agent("agent"), user("user");
  user.say("I'd like to fly JFK to ORD on May 20, economy. I'm mia_li_3668.").say("Yes please.").say("Thanks! ###STOP###");
  agent.call("search_direct_flight", R"({"origin": "JFK", "destination": "ORD", "date": "2024-05-20"})")
      .say("HAT001 costs $110. Shall I book it?")
      .call("book_reservation", kBook)
      .say("Booked: HATHAT.");
  RunConfig cfg;
  cfg.seed = 42;
  const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("book_flight"), cfg);
  CHECK(rec.termination_reason == "user_stop");
  CHECK(rec.reward_info["reward"].get<double>() == 1.0);
  std::vector<std::string> roles;
  for (const auto& m : rec.messages) roles.push_back(m.role);
  CHECK(roles == std::vector<std::string>{"assistant", "user", "assistant", "tool", "assistant", "user", "assistant", "tool",
                                          "assistant", "user"});
  CHECK(*rec.messages[0].content == "Hi! How can I help you today?");
  CHECK(rec.messages[7].content->find("\"reservation_id\": \"HATHAT\"") != std::string::npos);
  CHECK(rec.agent == "scripted:agent");
  CHECK(rec.user_simulator == "scripted:user");

  // The agent: policy system prompt, the 14 airline tools, its own view of the conversation.
  REQUIRE(agent.requests.size() == 4);
  const auto& first = agent.requests[0];
  CHECK(first.messages[0].role == "system");
  CHECK(first.messages[0].content.find("<policy>\nAIRLINE POLICY TEXT\n</policy>") != std::string::npos);
  CHECK(first.messages[0].content.rfind("<instructions>\nYou are a customer service agent", 0) == 0);
  CHECK(first.tools.size() == 14);
  CHECK(first.seed == std::optional<std::uint64_t>(42));
  CHECK(first.messages[1].role == "assistant");  // greeting
  CHECK(first.messages[2].role == "user");
  const auto& third = agent.requests[2];  // after "Yes please."
  CHECK(third.messages.back().role == "user");
  CHECK(third.messages[3].role == "assistant");
  CHECK(third.messages[3].tool_calls[0]["function"]["name"] == "search_direct_flight");
  CHECK(third.messages[4].role == "tool");
  CHECK(third.messages[4].tool_call_id == third.messages[3].tool_calls[0]["id"].get<std::string>());

  // The user: guidelines (persona placeholder removed) + scenario; roles flipped; no tools.
  REQUIRE(user.requests.size() == 3);
  const auto& u0 = user.requests[0];
  CHECK(u0.messages[0].content.rfind("# Guidelines\nBe a customer.\n\n\n<scenario>\nPersona:\n\tBrief and polite.\nInstructions:\n\tDomain: airline", 0) == 0);
  CHECK(u0.messages[0].content.find("</scenario>") == u0.messages[0].content.size() - 11);
  CHECK(u0.tools.empty());
  REQUIRE(u0.messages.size() == 2);
  CHECK(u0.messages[1].role == "user");  // the agent's greeting, flipped
  const auto& u1 = user.requests[1];
  CHECK(u1.messages[1].role == "user");
  CHECK(u1.messages[2].role == "assistant");  // its own first message
  CHECK(u1.messages[3].content == "HAT001 costs $110. Shall I book it?");
  CHECK(u1.messages.size() == 4);  // tool traffic of the agent is invisible to the user
}

TEST_CASE("orchestrator: ###TRANSFER### and ###OUT-OF-SCOPE### end the run as user_stop") {
  for (const char* token : {"###TRANSFER###", "###OUT-OF-SCOPE###"}) {
    AirlineFixture f;
    ScriptedBackend agent("agent"), user("user");
    user.say("Help me.").say(std::string("Ok ") + token);
    agent.call("transfer_to_human_agents", R"({"summary": "needs a human"})").say("Transferring you now.");
    const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("refuse"), RunConfig{});
    CHECK(rec.termination_reason == "user_stop");
    CHECK(rec.messages.back().content->find(token) != std::string::npos);
    CHECK(rec.messages[3].content == std::optional<std::string>("Transfer successful"));
  }
}

TEST_CASE("orchestrator: max_steps and too_many_errors end the run with reward 0") {
  {
    AirlineFixture f;
    ScriptedBackend agent("agent"), user("user");
    user.say("Tell me a story.");
    user.repeat_last();
    agent.say("Once upon a time...");
    agent.repeat_last();
    RunConfig cfg;
    cfg.max_steps = 6;
    const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("communicate_only"), cfg);
    CHECK(rec.termination_reason == "max_steps");
    CHECK(rec.reward_info["reward"].get<double>() == 0.0);
    CHECK(rec.messages.size() == 7);  // greeting + 6 steps
  }
  {
    AirlineFixture f;
    ScriptedBackend agent("agent"), user("user");
    user.say("Cancel NO6JO3");
    agent.call("cancel_reservation", R"({"reservation_id": "NOPE00"})");
    agent.repeat_last();
    RunConfig cfg;
    cfg.max_errors = 3;
    const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("cancel_trip"), cfg);
    CHECK(rec.termination_reason == "too_many_errors");
    int errors = 0;
    for (const auto& m : rec.messages) errors += m.error ? 1 : 0;
    CHECK(errors == 3);
  }
}

TEST_CASE("orchestrator: broken model output is retried, then recorded as infrastructure_error") {
  AirlineFixture f;
  ScriptedBackend agent("agent"), user("user");
  user.say("Hi");
  user.repeat_last();
  agent.call("get_user_details", "{not json");
  agent.repeat_last();
  RunConfig cfg;
  cfg.max_retries = 2;
  const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("cancel_trip"), cfg);
  CHECK(rec.termination_reason == "infrastructure_error");
  CHECK(rec.error->find("not valid JSON") != std::string::npos);
  CHECK(agent.requests.size() == 3);  // one per attempt

  ScriptedBackend empty_agent("agent"), user2("user");
  user2.say("Hi");
  user2.repeat_last();
  empty_agent.say("   ");
  empty_agent.repeat_last();
  const SimulationRecord rec2 = run_task(f.ctx(empty_agent, user2), "airline", f.task("cancel_trip"), cfg);
  CHECK(rec2.termination_reason == "infrastructure_error");
  CHECK(rec2.error->find("empty message") != std::string::npos);
}

TEST_CASE("orchestrator: a task message history is replayed and continued") {
  AirlineFixture f;
  ScriptedBackend agent("agent"), user("user");
  user.say("Economy, gift card please.").say("###STOP###");
  agent.call("update_reservation_flights", R"({"reservation_id": "ZFA04Y", "cabin": "economy",
      "flights": [{"flight_number": "HAT005", "date": "2024-05-21"}], "payment_id": "gift_card_2222222"})")
      .say("Done.");
  const SimulationRecord rec = run_task(f.ctx(agent, user), "airline", f.task("init_state"), RunConfig{});
  CHECK(rec.termination_reason == "user_stop");
  CHECK(rec.reward_info["reward"].get<double>() == 1.0);  // needs the 500.0 gift card of initialization_data
  CHECK(rec.messages.size() == 5 + 5);
  // The user simulator continues from the history: it saw the greeting, its first line and the
  // agent's question (not the agent's tool traffic).
  REQUIRE(!user.requests.empty());
  CHECK(user.requests[0].messages.size() == 4);
}

TEST_CASE("orchestrator: the judge scores NL assertions and is recorded") {
  AirlineFixture f;
  ScriptedBackend agent("agent"), user("user"), judge("judge");
  user.say("Is HAT003 on time?").say("ok ###STOP###");
  agent.call("get_flight_status", R"({"flight_number": "HAT003", "date": "2024-05-15"})").say("It is delayed.");
  judge.say(R"({"results": [{"expectedOutcome": "a", "reasoning": "r", "metExpectation": true},
                            {"expectedOutcome": "b", "reasoning": "r", "metExpectation": false}]})");
  RunContext ctx = f.ctx(agent, user);
  ctx.judge = &judge;
  const SimulationRecord rec = run_task(ctx, "airline", f.task("nl_task"), RunConfig{});
  CHECK(rec.reward_info["reward"].get<double>() == 0.0);
  CHECK(rec.reward_info["reward_breakdown"]["NL_ASSERTION"].get<double>() == 0.0);
  CHECK(rec.judge == std::optional<std::string>("scripted:judge"));
  REQUIRE(judge.requests.size() == 1);
  CHECK(judge.requests[0].messages[1].content.find("assistant: It is delayed.") != std::string::npos);
  // The saved record re-scores to the same reward without the judge.
  const SimulationRecord back = record_from_json(Json::parse(py::dumps(rec.to_json())), "round trip");
  const RewardInfo again = evaluate_simulation(ctx.make_env, f.task("nl_task"), back.outcome());
  CHECK(again.reward == 0.0);
}

TEST_CASE("per-trial seeds equal Python's random.seed(s); randint(0, 1000000)") {
  CHECK(trial_seeds(300, 5) == std::vector<std::uint64_t>{626729, 373753, 361454, 1567, 514337});
  CHECK(trial_seeds(7, 3) == std::vector<std::uint64_t>{339563, 993908, 158176});
}

TEST_CASE("orchestrator: telecom user simulator calls its device tools") {
  const Json db = load_json_file(kData + "/telecom/db.json");
  const Json user_db = load_json_file(kData + "/telecom/user_db.json");
  auto tasks = tasks_from_json(load_json_file(kData + "/telecom/tasks.json"), "tasks.json");
  ScriptedBackend agent("agent"), user("user");
  user.say("I have no service.").call("toggle_airplane_mode", "{}").say("Service is back! ###STOP###");
  agent.say("Please turn off airplane mode.");
  RunContext ctx;
  ctx.make_env = [&] { return telecom::make_environment(db, user_db, "TELECOM POLICY"); };
  ctx.user_guidelines = "# Guidelines\n";
  ctx.user_guidelines_tools = "# Tool guidelines<PERSONA_GUIDELINES>\n";
  ctx.agent = &agent;
  ctx.user = &user;
  const SimulationRecord rec = run_task(ctx, "telecom", tasks[1], RunConfig{});  // "airplane"
  REQUIRE(tasks[1].id == "airplane");
  CHECK(rec.termination_reason == "user_stop");
  CHECK(rec.reward_info["reward"].get<double>() == 1.0);
  std::vector<std::string> roles;
  for (const auto& m : rec.messages) roles.push_back(m.role);
  CHECK(roles == std::vector<std::string>{"assistant", "user", "assistant", "user", "tool", "user"});
  CHECK(rec.messages[3].tool_calls->at(0).requestor == "user");
  CHECK(rec.messages[4].requestor == "user");
  CHECK(rec.messages[4].content->rfind("Airplane Mode is now OFF.", 0) == 0);
  // The user model got its 30 device tools and the tools variant of the guidelines.
  REQUIRE(user.requests.size() == 3);
  CHECK(user.requests[0].tools.size() == 30);
  CHECK(user.requests[0].messages[0].content.rfind("# Tool guidelines\n\n\n<scenario>\n", 0) == 0);
  // Its own tool call comes back as an assistant message, the result as a tool message.
  const auto& third = user.requests[2].messages;
  CHECK(third[third.size() - 2].role == "assistant");
  CHECK(third[third.size() - 2].tool_calls[0]["function"]["name"] == "toggle_airplane_mode");
  CHECK(third.back().role == "tool");
  CHECK(third.back().tool_call_id == third[third.size() - 2].tool_calls[0]["id"].get<std::string>());
  // The agent saw neither the user's tool call nor its result.
  REQUIRE(agent.requests.size() == 1);
  CHECK(agent.requests[0].tools.size() == 13);

  // A task's user_tools list restricts the user's tools.
  ScriptedBackend agent2("agent"), user2("user");
  user2.say("Human please ###STOP###");
  RunContext ctx2 = ctx;
  ctx2.agent = &agent2;
  ctx2.user = &user2;
  run_task(ctx2, "telecom", tasks[6], RunConfig{});
  REQUIRE(tasks[6].id == "transfer");
  REQUIRE(!user2.requests.empty());
  CHECK(user2.requests[0].tools.size() == 2);
}
