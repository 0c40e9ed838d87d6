"""Produces the expected tool outputs for tests/tau2/data/<domain>/tool_script.json by running the
official tau2-bench environment (pinned revision, see datasets/tau2/README.md) on our self-written
database. Offline tooling only: the C++ tests read the JSON this writes and never run Python.

usage: PYTHONPATH=<tau2-bench>/src python run_tool_script.py <domain> <data_dir>
"""
import json
import sys

from tau2.data_model.message import ToolCall
from tau2.data_model.tasks import EnvFunctionCall
from tau2.environment.environment import Environment


def make_env(domain, data_dir):
    if domain == "airline":
        from tau2.domains.airline.data_model import FlightDB
        from tau2.domains.airline.environment import get_environment
        return get_environment(db=FlightDB.load(f"{data_dir}/db.json"))
    if domain == "retail":
        from tau2.domains.retail.data_model import RetailDB
        from tau2.domains.retail.environment import get_environment
        return get_environment(db=RetailDB.load(f"{data_dir}/db.json"))
    if domain == "telecom":
        from tau2.domains.telecom.data_model import TelecomDB
        from tau2.domains.telecom.environment import get_environment
        from tau2.domains.telecom.user_data_model import TelecomUserDB
        return get_environment(db=TelecomDB.load(f"{data_dir}/db.json"), user_db=TelecomUserDB.load(f"{data_dir}/user_db.json"))
    raise SystemExit(f"unknown domain {domain}")


def main():
    domain, data_dir = sys.argv[1], sys.argv[2]
    env = make_env(domain, data_dir)
    script = json.load(open(f"{data_dir}/tool_script.json"))
    out = {"initial_db_hash": env.get_db_hash(), "initial_user_db_hash": env.get_user_db_hash(), "steps": []}
    for i, step in enumerate(script):
        if "env" in step:  # an initialization action or assertion, run as the evaluator does
            try:
                res = env.run_env_function_call(EnvFunctionCall(**step["env"]))
                content, error = Environment.to_json_str(res), False
            except Exception as e:
                content, error = f"Error: {e}", True
            out["steps"].append({"content": content, "error": error, "db_hash": env.get_db_hash(),
                                 "user_db_hash": env.get_user_db_hash()})
            continue
        call = ToolCall(id=f"call_{i}", name=step["name"], arguments=step["arguments"],
                        requestor=step.get("requestor", "assistant"))
        msg = env.get_response(call)
        out["steps"].append({"content": msg.content, "error": msg.error, "db_hash": env.get_db_hash(),
                             "user_db_hash": env.get_user_db_hash()})
    json.dump(out, open(f"{data_dir}/tool_script_expected.json", "w"), indent=1)


if __name__ == "__main__":
    main()
