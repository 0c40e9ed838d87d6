"""Self-written retail conversations for evaluator parity (see make_parity.py)."""
U, A, C = "user", "agent", "call"
STOP = (U, "Great, thanks! ###STOP###")
CANCEL = {"order_id": "#W4776164", "reason": "no longer needed"}
EXCH = {"order_id": "#W2378156", "item_ids": ["1008292230"], "new_item_ids": ["1008292231"], "payment_method_id": "gift_card_1111111"}
RET = {"order_id": "#W7000001", "item_ids": ["7533802601"], "payment_method_id": "credit_card_9513926"}
MOD = {"order_id": "#W5555555", "item_ids": ["1008292233"], "new_item_ids": ["1008292230"], "payment_method_id": "credit_card_1111222"}
MOD2 = {"order_id": "#W5555555", "item_ids": ["1008292233", "7533802602"], "new_item_ids": ["1008292230", "7533802601"],
        "payment_method_id": "credit_card_1111222"}
ADDR = {"address1": "2 Oak Ave", "address2": "Apt 5", "city": "Boulder", "state": "CO", "country": "USA", "zip": "80301"}
PAY = {"order_id": "#W4776164", "payment_method_id": "credit_card_9513926"}


def judge(*verdicts):
    import json
    return json.dumps({"results": [{"expectedOutcome": o, "reasoning": r, "metExpectation": m} for o, r, m in verdicts]})


J0_OK = judge(("Agent tells the user the refund goes to the gift card immediately.", "it did", True))
J0_NO = judge(("Agent tells the user the refund goes to the gift card immediately.", "never mentioned", False))
J3_OK = judge(("Agent asks for explicit confirmation before modifying the order.", "asked yes/no", True))
J3_NO = judge(("Agent asks for explicit confirmation before modifying the order.", "did not ask", False))
J7_OK = judge(("Agent says that 3 T-shirt variants are available.", "yes", True), ("Agent does not modify any order.", "none", True))
J7_HALF = judge(("Agent says that 3 T-shirt variants are available.", "said 4", False), ("Agent does not modify any order.", "none", True))

SIMULATIONS = [
    # 0: cancel (DB + NL)
    {"id": "r01", "task_id": "0", "kind": "success", "judge": J0_OK, "steps": [
        (U, "Hi, I want to cancel #W4776164. My email is yusuf.rossi7301@example.com"),
        (C, "find_user_id_by_email", {"email": "yusuf.rossi7301@example.com"}), (C, "get_order_details", {"order_id": "#W4776164"}),
        (A, "Cancel #W4776164 (no longer needed)? The $77.49 goes back to your gift card immediately. yes/no?"), (U, "yes"),
        (C, "cancel_pending_order", CANCEL), (A, "Cancelled."), STOP]},
    {"id": "r02", "task_id": "0", "kind": "nl_false", "judge": J0_NO, "steps": [
        (U, "Cancel #W4776164."), (C, "cancel_pending_order", CANCEL), (A, "Cancelled."), STOP]},
    {"id": "r03", "task_id": "0", "kind": "db_mismatch_reason", "judge": J0_OK, "steps": [
        (U, "Cancel #W4776164."), (C, "cancel_pending_order", dict(CANCEL, reason="ordered by mistake")),
        (A, "Cancelled, refund to gift card right away."), STOP]},
    {"id": "r04", "task_id": "0", "kind": "db_mismatch_wrong_order", "judge": J0_OK, "steps": [
        (U, "Cancel my order."), (C, "cancel_pending_order", {"order_id": "#W5555555", "reason": "no longer needed"}),
        (A, "Cancelled, refund to gift card immediately."), STOP]},
    {"id": "r05", "task_id": "0", "kind": "max_steps", "termination": "max_steps", "judge": J0_OK, "steps": [
        (U, "Cancel #W4776164."), (C, "cancel_pending_order", CANCEL)]},
    {"id": "r06", "task_id": "0", "kind": "success_after_invalid_reason", "judge": J0_OK, "steps": [
        (U, "Cancel #W4776164, I changed my mind."), (C, "cancel_pending_order", dict(CANCEL, reason="changed my mind")),
        (A, "Is it no longer needed, or ordered by mistake?"), (U, "No longer needed."), (C, "cancel_pending_order", CANCEL),
        (A, "Done; the gift card was refunded immediately."), STOP]},
    # 1: exchange (DB, NL with no assertions)
    {"id": "r07", "task_id": "1", "kind": "success_empty_nl", "steps": [
        (U, "Exchange a blue shirt for red M."), (C, "get_order_details", {"order_id": "#W2378156"}),
        (C, "get_product_details", {"product_id": "6086499569"}), (C, "exchange_delivered_order_items", EXCH), (A, "Requested; $2.83 from gift card."), STOP]},
    {"id": "r08", "task_id": "1", "kind": "db_mismatch_both_items", "steps": [
        (U, "Exchange the blue shirts."), (C, "exchange_delivered_order_items", dict(EXCH, item_ids=["1008292230", "1008292230"], new_item_ids=["1008292231", "1008292231"])),
        (A, "Done."), STOP]},
    {"id": "r09", "task_id": "1", "kind": "db_mismatch_payment", "steps": [
        (U, "Exchange a blue shirt."), (C, "exchange_delivered_order_items", dict(EXCH, payment_method_id="credit_card_9513926")), (A, "Done."), STOP]},
    {"id": "r10", "task_id": "1", "kind": "db_mismatch_unavailable", "steps": [
        (U, "Exchange for red L."), (C, "exchange_delivered_order_items", dict(EXCH, new_item_ids=["1008292232"])), (A, "Unavailable."), STOP]},
    {"id": "r11", "task_id": "1", "kind": "success_after_second_try", "steps": [
        (U, "Exchange."), (C, "exchange_delivered_order_items", dict(EXCH, payment_method_id="gift_card_0000000")),
        (C, "exchange_delivered_order_items", EXCH), (A, "Done."), STOP]},
    # 2: return (DB)
    {"id": "r12", "task_id": "2", "kind": "success", "steps": [
        (U, "Return the 500ml bottle."), (C, "return_delivered_order_items", RET), (A, "Return requested."), STOP]},
    {"id": "r13", "task_id": "2", "kind": "db_mismatch_paypal_refused", "steps": [
        (U, "Return it to PayPal."), (C, "return_delivered_order_items", dict(RET, payment_method_id="paypal_7777777")), (A, "Not allowed."), STOP]},
    {"id": "r14", "task_id": "2", "kind": "db_mismatch_both_items", "steps": [
        (U, "Return the bottles."), (C, "return_delivered_order_items", dict(RET, item_ids=["7533802602", "7533802601"])), (A, "Done."), STOP]},
    {"id": "r15", "task_id": "2", "kind": "db_mismatch_gift_card_refund", "steps": [
        (U, "Return it."), (C, "return_delivered_order_items", dict(RET, payment_method_id="gift_card_1111111")), (A, "Done."), STOP]},
    {"id": "r16", "task_id": "2", "kind": "too_many_errors", "termination": "too_many_errors", "steps": [
        (U, "Return it.")] + [(C, "return_delivered_order_items", dict(RET, order_id="#W%07d" % i)) for i in range(10)]},
    # 3: modify one item (DB + NL)
    {"id": "r17", "task_id": "3", "kind": "success", "judge": J3_OK, "steps": [
        (U, "Change the green shirt to blue M."), (A, "Change 1008292233 to 1008292230, charging $3.17 to your card. yes/no?"), (U, "yes"),
        (C, "modify_pending_order_items", MOD), (A, "Done."), STOP]},
    {"id": "r18", "task_id": "3", "kind": "nl_false_db_ok", "judge": J3_NO, "steps": [
        (U, "Change the green shirt to blue M."), (C, "modify_pending_order_items", MOD), (A, "Done."), STOP]},
    {"id": "r19", "task_id": "3", "kind": "db_mismatch_gift_card", "judge": J3_OK, "steps": [
        (U, "Change it, gift card."), (C, "modify_pending_order_items", dict(MOD, payment_method_id="gift_card_8168843")), (A, "OK."), STOP]},
    {"id": "r20", "task_id": "3", "kind": "db_mismatch_same_item_error", "judge": J3_OK, "steps": [
        (U, "Change it."), (C, "modify_pending_order_items", dict(MOD, new_item_ids=["1008292233"])), (A, "Error."), STOP]},
    # 4: modify two items: the last variant prices every item (official quirk)
    {"id": "r21", "task_id": "4", "kind": "success_last_variant_quirk", "steps": [
        (U, "Change both."), (C, "modify_pending_order_items", MOD2), (A, "Done."), STOP]},
    {"id": "r22", "task_id": "4", "kind": "db_mismatch_reordered_pairs", "steps": [
        (U, "Change both."), (C, "modify_pending_order_items", dict(MOD2, item_ids=["7533802602", "1008292233"], new_item_ids=["7533802601", "1008292230"])),
        (A, "Done."), STOP]},
    {"id": "r23", "task_id": "4", "kind": "db_mismatch_two_calls", "steps": [
        (U, "Change both."), (C, "modify_pending_order_items", MOD),
        (C, "modify_pending_order_items", {"order_id": "#W5555555", "item_ids": ["7533802602"], "new_item_ids": ["7533802601"], "payment_method_id": "credit_card_1111222"}),
        (A, "Only the first could be done."), STOP]},
    # 5: two address writes
    {"id": "r24", "task_id": "5", "kind": "success", "steps": [
        (U, "I moved."), (C, "modify_pending_order_address", dict(ADDR, order_id="#W5555555")), (C, "modify_user_address", dict(ADDR, user_id="ava_moore_2033")),
        (A, "Both updated."), STOP]},
    {"id": "r25", "task_id": "5", "kind": "success_other_order", "steps": [
        (U, "I moved."), (C, "modify_user_address", dict(ADDR, user_id="ava_moore_2033")), (C, "modify_pending_order_address", dict(ADDR, order_id="#W5555555")),
        (A, "Both updated."), STOP]},
    {"id": "r26", "task_id": "5", "kind": "db_mismatch_partial", "steps": [
        (U, "I moved."), (C, "modify_user_address", dict(ADDR, user_id="ava_moore_2033")), (A, "Updated your profile."), STOP]},
    {"id": "r27", "task_id": "5", "kind": "db_mismatch_typo", "steps": [
        (U, "I moved."), (C, "modify_pending_order_address", dict(ADDR, order_id="#W5555555")),
        (C, "modify_user_address", dict(ADDR, user_id="ava_moore_2033", zip="80310")), (A, "Both updated."), STOP]},
    # 6: payment change
    {"id": "r28", "task_id": "6", "kind": "success", "steps": [
        (U, "Use my card."), (C, "modify_pending_order_payment", PAY), (A, "Switched; gift card refunded."), STOP]},
    {"id": "r29", "task_id": "6", "kind": "db_mismatch_paypal", "steps": [
        (U, "Use PayPal."), (C, "modify_pending_order_payment", dict(PAY, payment_method_id="paypal_7777777")), (A, "Switched."), STOP]},
    # 7: information only (DB + NL, two assertions)
    {"id": "r30", "task_id": "7", "kind": "success", "judge": J7_OK, "steps": [
        (U, "How many T-shirt options are available?"), (C, "get_product_details", {"product_id": "6086499569"}), (A, "3 variants are available."), STOP]},
    {"id": "r31", "task_id": "7", "kind": "nl_false", "judge": J7_HALF, "steps": [
        (U, "How many T-shirt options?"), (C, "list_all_product_types", {}), (A, "4 variants."), STOP]},
    {"id": "r32", "task_id": "7", "kind": "db_mismatch_unrequested_write", "judge": J7_OK, "steps": [
        (U, "How many T-shirt options?"), (C, "get_product_details", {"product_id": "6086499569"}), (A, "3 are available."),
        (C, "modify_user_address", dict(ADDR, user_id="ava_moore_2033")), STOP]},
    # 8: default reward basis [DB, COMMUNICATE]
    {"id": "r33", "task_id": "8", "kind": "success_default_basis", "steps": [
        (U, "Price of the 500ml bottle?"), (C, "get_item_details", {"item_id": "7533802601"}), (A, "It is $24.49."), STOP]},
    {"id": "r34", "task_id": "8", "kind": "communicate_missing", "steps": [
        (U, "Price of the 500ml bottle?"), (C, "get_item_details", {"item_id": "7533802601"}), (A, "About 25 dollars."), STOP]},
    {"id": "r35", "task_id": "8", "kind": "infrastructure_error", "termination": "infrastructure_error", "steps": []},
]
