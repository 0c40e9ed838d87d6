"""Self-written telecom conversations (with the user's device tool calls) for evaluator parity."""
U, A, C, UC = "user", "agent", "call", "user_call"
STOP = (U, "It works now, thanks! ###STOP###")
ANA = {"customer_id": "C1001", "line_id": "L1001"}
BO = {"customer_id": "C1002", "line_id": "L2001"}

SIMULATIONS = [
    # data_exceeded (ENV_ASSERTION: mobile data works)
    {"id": "t01", "task_id": "data_exceeded", "kind": "success", "steps": [
        (U, "My data stopped working. 555-000-1001."), (C, "get_customer_by_phone", {"phone_number": "555-000-1001"}),
        (C, "get_data_usage", ANA), (A, "You used all your data. Add 2 GB for $8?"), (U, "Yes."),
        (C, "refuel_data", dict(ANA, gb_amount=2)), (A, "Done. Please run a speed test."), (UC, "run_speed_test", {}),
        (U, "Speed test is fine."), STOP]},
    {"id": "t02", "task_id": "data_exceeded", "kind": "assertion_false_no_refuel", "steps": [
        (U, "My data stopped working."), (A, "Please toggle your data."), (UC, "toggle_data", {}), (UC, "toggle_data", {}),
        (U, "Still nothing. ###STOP###")]},
    {"id": "t03", "task_id": "data_exceeded", "kind": "success_other_amount", "steps": [
        (U, "No data."), (C, "refuel_data", dict(ANA, gb_amount=0.5)), (A, "Added 0.5 GB."), STOP]},
    {"id": "t04", "task_id": "data_exceeded", "kind": "assertion_false_user_disabled_data", "steps": [
        (U, "No data."), (C, "refuel_data", dict(ANA, gb_amount=2)), (A, "Added."), (UC, "toggle_data", {}), (U, "Hmm. ###STOP###")]},
    {"id": "t05", "task_id": "data_exceeded", "kind": "too_many_errors", "termination": "too_many_errors", "steps": [
        (U, "No data.")] + [(C, "refuel_data", dict(ANA, gb_amount=0)) for _ in range(10)]},
    # airplane (two assertions)
    {"id": "t06", "task_id": "airplane", "kind": "success_user_tool", "steps": [
        (U, "No service at all."), (A, "Please check your status bar."), (UC, "check_status_bar", {}), (U, "It shows an airplane."),
        (A, "Turn airplane mode off."), (UC, "toggle_airplane_mode", {}), STOP]},
    {"id": "t07", "task_id": "airplane", "kind": "assertion_false_toggled_twice", "steps": [
        (U, "No service."), (UC, "toggle_airplane_mode", {}), (UC, "toggle_airplane_mode", {}), (U, "Still no service ###STOP###")]},
    {"id": "t08", "task_id": "airplane", "kind": "assertion_false_nothing", "steps": [(U, "No service."), (A, "Sorry."), (U, "Bye ###STOP###")]},
    {"id": "t09", "task_id": "airplane", "kind": "success_with_agent_reads", "steps": [
        (U, "No service."), (C, "get_customer_by_phone", {"phone_number": "555-000-2001"}), (C, "get_details_by_id", {"id": "L2001"}),
        (A, "Your line is active; check airplane mode."), (UC, "toggle_airplane_mode", {}), (UC, "run_speed_test", {}), STOP]},
    {"id": "t10", "task_id": "airplane", "kind": "one_assertion_false_data_off", "steps": [
        (U, "No service."), (UC, "toggle_airplane_mode", {}), (UC, "toggle_data", {}), (U, "Calls work. ###STOP###")]},
    # roaming (ENV_ASSERTION + ACTION)
    {"id": "t11", "task_id": "roaming", "kind": "success", "steps": [
        (U, "No data abroad. 555-000-2001."), (C, "get_customer_by_phone", {"phone_number": "555-000-2001"}),
        (C, "enable_roaming", BO), (A, "Enabled on our side; turn on data roaming."), (UC, "toggle_roaming", {}), STOP]},
    {"id": "t12", "task_id": "roaming", "kind": "action_and_assertion_false", "steps": [
        (U, "No data abroad."), (UC, "toggle_roaming", {}), (U, "Nope. ###STOP###")]},
    {"id": "t13", "task_id": "roaming", "kind": "assertion_false_device_roaming_off", "steps": [
        (U, "No data abroad."), (C, "enable_roaming", BO), (A, "Enabled."), (U, "Still nothing ###STOP###")]},
    {"id": "t14", "task_id": "roaming", "kind": "success_user_first", "steps": [
        (U, "No data abroad."), (UC, "toggle_roaming", {}), (C, "enable_roaming", BO), (A, "Should work now."), STOP]},
    {"id": "t15", "task_id": "roaming", "kind": "success_despite_a_wrong_call", "steps": [
        (U, "No data abroad."), (C, "enable_roaming", {"customer_id": "C1002", "line_id": "L2002"}), (C, "enable_roaming", BO),
        (UC, "toggle_roaming", {}), (UC, "toggle_roaming", {}), (UC, "toggle_roaming", {}), STOP]},
    # overdue bill: payment request flows through sync_tools
    {"id": "t16", "task_id": "overdue", "kind": "success_payment_flow", "steps": [
        (U, "My line is suspended."), (C, "get_bills_for_customer", {"customer_id": "C1002"}),
        (C, "send_payment_request", {"customer_id": "C1002", "bill_id": "B7777"}), (A, "Please pay the request."),
        (UC, "check_payment_request", {}), (UC, "make_payment", {}), (U, "Paid."),
        (C, "resume_line", BO), (A, "Resumed; please reboot."), (UC, "reboot_device", {}), STOP]},
    {"id": "t17", "task_id": "overdue", "kind": "assertion_false_not_paid", "steps": [
        (U, "Suspended."), (C, "send_payment_request", {"customer_id": "C1002", "bill_id": "B7777"}), (C, "resume_line", BO),
        (UC, "reboot_device", {}), STOP]},
    {"id": "t18", "task_id": "overdue", "kind": "success_status_never_searched", "steps": [
        (U, "Suspended."), (C, "send_payment_request", {"customer_id": "C1002", "bill_id": "B7777"}), (UC, "make_payment", {}),
        (C, "resume_line", BO), (A, "Done."), STOP]},
    {"id": "t19", "task_id": "overdue", "kind": "assertion_false_wrong_bill", "steps": [
        (U, "Suspended."), (C, "send_payment_request", {"customer_id": "C1002", "bill_id": "B2001"}), (UC, "make_payment", {}),
        (C, "resume_line", BO), (UC, "toggle_airplane_mode", {}), (UC, "toggle_airplane_mode", {}), STOP]},
    {"id": "t20", "task_id": "overdue", "kind": "success_airplane_instead_of_reboot", "steps": [
        (U, "Suspended."), (C, "send_payment_request", {"customer_id": "C1002", "bill_id": "B7777"}), (UC, "make_payment", {}),
        (C, "resume_line", BO), (UC, "toggle_airplane_mode", {}), (UC, "toggle_airplane_mode", {}), STOP]},
    # mms
    {"id": "t21", "task_id": "mms", "kind": "success", "steps": [
        (U, "Can't send pictures."), (UC, "can_send_mms", {}), (UC, "check_apn_settings", {}), (A, "Reset APN and reboot."),
        (UC, "reset_apn_settings", {}), (UC, "reboot_device", {}), (UC, "can_send_mms", {}), STOP]},
    {"id": "t22", "task_id": "mms", "kind": "assertion_false_reset_without_reboot", "steps": [
        (U, "Can't send pictures."), (UC, "reset_apn_settings", {}), (U, "Still broken ###STOP###")]},
    {"id": "t23", "task_id": "mms", "kind": "success_set_apn", "steps": [
        (U, "Can't send pictures."), (UC, "set_apn_settings", {"apn_settings": {"apn_name": "internet"}}), STOP]},
    {"id": "t24", "task_id": "mms", "kind": "assertion_false_bad_apn", "steps": [
        (U, "Can't send pictures."), (UC, "set_apn_settings", {"apn_settings": {"apn_name": "broken"}}), STOP]},
    {"id": "t25", "task_id": "mms", "kind": "assertion_false_2g_blocks_mms", "steps": [
        (U, "Can't send pictures."), (UC, "reset_apn_settings", {}), (UC, "reboot_device", {}),
        (UC, "set_network_mode_preference", {"mode": "2g_only"}), STOP]},
    # db_basis: the gold replay does not sync the user's phone, so the user DBs differ
    {"id": "t26", "task_id": "db_basis", "kind": "db_false_user_db_not_synced_in_gold", "steps": [
        (U, "No data."), (C, "refuel_data", dict(ANA, gb_amount=2.0)), (A, "Added 2 GB."), STOP]},
    {"id": "t27", "task_id": "db_basis", "kind": "db_false_int_amount_description", "steps": [
        (U, "No data."), (C, "refuel_data", dict(ANA, gb_amount=2)), (A, "Added 2 GB."), STOP]},
    {"id": "t28", "task_id": "db_basis", "kind": "db_false_nothing", "steps": [(U, "No data."), (A, "Sorry."), STOP]},
    # transfer (ACTION with empty compare_args, user tools restricted)
    {"id": "t29", "task_id": "transfer", "kind": "success_transfer", "steps": [
        (U, "I want a human."), (C, "transfer_to_human_agents", {"summary": "user asks for a human"}), (A, "Transferring."),
        (U, "###TRANSFER###")]},
    {"id": "t30", "task_id": "transfer", "kind": "action_missing", "steps": [(U, "I want a human."), (A, "I can help you."), (U, "Fine ###STOP###")]},
    {"id": "t31", "task_id": "transfer", "kind": "assertion_false_refueled", "steps": [
        (U, "Human please."), (C, "refuel_data", dict(ANA, gb_amount=3)), (C, "transfer_to_human_agents", {"summary": "x"}), (U, "###TRANSFER###")]},
    {"id": "t32", "task_id": "transfer", "kind": "max_steps", "termination": "max_steps", "steps": [
        (U, "Human please."), (C, "transfer_to_human_agents", {"summary": "x"})]},
]
