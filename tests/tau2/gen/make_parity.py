"""Evaluator parity data: runs our self-written conversations (specs in parity_specs_<domain>.py)
through the *official* tau2-bench environment to fill in tool results, then scores each one with
the official evaluate_simulation(EvaluationType.ALL). Writes, per domain:

  data/<domain>/parity_trajectories.jsonl  one simulation per line (our trajectory format)
  data/<domain>/parity_expected.json       the official reward info for each, and the exact
                                           prompt the NL-assertion judge received

The judge model is replaced by canned answers written in the spec, so the run is offline.
usage: PYTHONPATH=<tau2-bench>/src python make_parity.py <domain> <tests/tau2/data>
"""
import importlib
import json
import sys
from pathlib import Path

import tau2.evaluator.evaluator as official_evaluator
import tau2.evaluator.evaluator_nl_assertions as nl_module
from tau2.data_model.message import AssistantMessage, ToolCall, UserMessage
from tau2.data_model.simulation import SimulationRun
from tau2.data_model.tasks import Task
from tau2.evaluator.evaluator import EvaluationType, evaluate_simulation
from tau2.registry import registry

GREETING = "Hi! How can I help you today?"


def make_env_factory(domain, data_dir):
    if domain == "airline":
        from tau2.domains.airline.data_model import FlightDB
        from tau2.domains.airline.environment import get_environment
        return lambda **kw: get_environment(db=FlightDB.load(f"{data_dir}/db.json"))
    if domain == "retail":
        from tau2.domains.retail.data_model import RetailDB
        from tau2.domains.retail.environment import get_environment
        return lambda **kw: get_environment(db=RetailDB.load(f"{data_dir}/db.json"))
    if domain == "telecom":
        from tau2.domains.telecom.data_model import TelecomDB
        from tau2.domains.telecom.environment import get_environment
        from tau2.domains.telecom.user_data_model import TelecomUserDB
        return lambda **kw: get_environment(db=TelecomDB.load(f"{data_dir}/db.json"),
                                            user_db=TelecomUserDB.load(f"{data_dir}/user_db.json"))
    raise SystemExit(domain)


def to_record_message(m):
    d = {"role": m.role, "content": m.content}
    if m.role == "tool":
        d = {"id": m.id, "role": "tool", "content": m.content, "requestor": m.requestor, "error": m.error}
    else:
        d["tool_calls"] = None if m.tool_calls is None else [
            {"id": c.id, "name": c.name, "arguments": c.arguments, "requestor": c.requestor} for c in m.tool_calls]
    return d


def build_messages(env, task, steps):
    """Plays the scripted steps against the official environment."""
    history = list(task.initial_state.message_history) if task.initial_state and task.initial_state.message_history else []
    if task.initial_state is not None:
        env.set_state(task.initial_state.initialization_data, task.initial_state.initialization_actions, history)
    messages = history if history else [AssistantMessage(role="assistant", content=GREETING)]
    n = 0
    for step in steps:
        kind = step[0]
        if kind == "user":
            messages.append(UserMessage(role="user", content=step[1]))
        elif kind == "agent":
            messages.append(AssistantMessage(role="assistant", content=step[1]))
        elif kind in ("call", "calls", "user_call"):
            calls = [(step[1], step[2])] if kind in ("call", "user_call") else step[1]
            requestor = "user" if kind == "user_call" else "assistant"
            tcs = []
            for name, args in calls:
                n += 1
                tcs.append(ToolCall(id=f"call_{n}", name=name, arguments=args, requestor=requestor))
            cls = UserMessage if requestor == "user" else AssistantMessage
            messages.append(cls(role=requestor, content=None, tool_calls=tcs))
            for tc in tcs:
                messages.append(env.get_response(tc))
        elif kind == "raw_tool":  # a tool message with recorded content (e.g. hallucinated tool)
            n += 1
            tc = ToolCall(id=f"call_{n}", name=step[1], arguments=step[2])
            messages.append(AssistantMessage(role="assistant", content=None, tool_calls=[tc]))
            messages.append(env.get_response(tc))
        else:
            raise SystemExit(f"unknown step {kind}")
    return messages


def main():
    domain, data_root = sys.argv[1], Path(sys.argv[2])
    data_dir = data_root / domain
    sys.path.insert(0, str(Path(__file__).parent))
    spec = importlib.import_module(f"parity_specs_{domain}")
    tasks = {t["id"]: Task.model_validate(t) for t in json.load(open(data_dir / "tasks.json"))}
    factory = make_env_factory(domain, data_dir)
    registry._domains[domain] = factory

    judge_state = {}

    def fake_generate(model, messages, **kwargs):
        judge_state["prompt"] = [m.content for m in messages]
        return AssistantMessage(role="assistant", content=judge_state["answer"])

    nl_module.generate = fake_generate

    lines, expected = [], []
    for sim in spec.SIMULATIONS:
        task = tasks[sim["task_id"]]
        env = factory()
        messages = build_messages(env, task, sim["steps"])
        record = {
            "id": sim["id"], "domain": domain, "task_id": sim["task_id"], "trial": 0,
            "termination_reason": sim.get("termination", "user_stop"),
            "messages": [to_record_message(m) for m in messages],
            "judge_answer": sim.get("judge"),
        }
        lines.append(json.dumps(record))
        # Score the same JSON we commit.
        run = SimulationRun.model_validate({
            "id": sim["id"], "task_id": sim["task_id"], "start_time": "", "end_time": "", "duration": 0.0,
            "termination_reason": record["termination_reason"], "messages": record["messages"]})
        judge_state.clear()
        judge_state["answer"] = sim.get("judge")
        try:
            info = evaluate_simulation(run, task, EvaluationType.ALL, solo_mode=False, domain=domain)
            out = json.loads(info.model_dump_json())
            exp = {"id": sim["id"], "reward": out["reward"],
                   "db_match": out["db_check"]["db_match"] if out.get("db_check") else None,
                   "reward_breakdown": out.get("reward_breakdown"),
                   "communicate_met": [c["met"] for c in out["communicate_checks"]] if out.get("communicate_checks") else None,
                   "action_match": [c["action_match"] for c in out["action_checks"]] if out.get("action_checks") else None,
                   "nl_met": [c["met"] for c in out["nl_assertions"]] if out.get("nl_assertions") else None,
                   "judge_prompt": judge_state.get("prompt"), "kind": sim.get("kind", "")}
        except Exception as e:  # the official evaluator raised
            exp = {"id": sim["id"], "error": f"{type(e).__name__}: {e}", "kind": sim.get("kind", "")}
        expected.append(exp)
    (data_dir / "parity_trajectories.jsonl").write_text("\n".join(lines) + "\n")
    json.dump(expected, open(data_dir / "parity_expected.json", "w"), indent=1)
    print(domain, len(expected), "simulations;", sum(1 for e in expected if e.get("reward") == 1.0), "successes")


if __name__ == "__main__":
    main()
