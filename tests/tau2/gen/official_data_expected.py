"""Hashes of the official data as the official code loads it (DB hashes, policies, user-simulator
scenarios), for tests/tau2/test_official_data.cpp, which checks our loaders on the fetched data
when it is present. Only hashes are kept.

usage: PYTHONPATH=<tau2-bench>/src python official_data_expected.py <data_root> <out.json>
(<data_root> as written by tools/fetch_datasets.d/tau2.sh)
"""
import hashlib
import json
import os
import sys

from tau2.data_model.tasks import Task


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def main():
    root, out_path = sys.argv[1], sys.argv[2]
    d = os.path.join(root, "tau2", "domains")
    out = {}
    from tau2.domains.retail.data_model import RetailDB
    from tau2.domains.telecom.data_model import TelecomDB
    from tau2.domains.telecom.environment import get_environment as telecom_env
    from tau2.domains.telecom.user_data_model import TelecomUserDB
    out["retail_db_hash"] = RetailDB.load(os.path.join(d, "retail", "db.json")).get_hash()
    tel = telecom_env(db=TelecomDB.load(os.path.join(d, "telecom", "db.toml")),
                      user_db=TelecomUserDB.load(os.path.join(d, "telecom", "user_db.toml")))
    out["telecom_db_hash"] = tel.get_db_hash()
    out["telecom_user_db_hash"] = tel.get_user_db_hash()
    out["telecom_policy_sha256"] = sha(tel.get_policy())
    if os.path.exists(os.path.join(d, "airline", "db.json")):
        from tau2.domains.airline.data_model import FlightDB
        out["airline_db_hash"] = FlightDB.load(os.path.join(d, "airline", "db.json")).get_hash()
    for dom in ("airline", "retail", "telecom"):
        tasks = [Task.model_validate(t) for t in json.load(open(os.path.join(d, dom, "tasks.json")))]
        out[f"{dom}_scenarios"] = {t.id: sha(str(t.user_scenario)) for t in tasks}
    json.dump(out, open(out_path, "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
