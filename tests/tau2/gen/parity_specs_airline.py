"""Self-written airline conversations for evaluator parity (see make_parity.py)."""
U, A, C, CS = "user", "agent", "call", "calls"
STOP = (U, "Thanks, that's all. ###STOP###")
MIA = {"user_id": "mia_li_3668"}
BOOK = {"user_id": "mia_li_3668", "origin": "JFK", "destination": "ORD", "flight_type": "one_way", "cabin": "economy",
        "flights": [{"flight_number": "HAT001", "date": "2024-05-20"}],
        "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}],
        "payment_methods": [{"payment_id": "credit_card_4421486", "amount": 110}],
        "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}


def book(**changes):
    d = dict(BOOK)
    d.update(changes)
    return d


def cancel_path(say):
    return [(U, "Hi, I'm Mia Li (mia_li_3668). Please cancel NO6JO3."), (C, "get_user_details", MIA),
            (C, "get_reservation_details", {"reservation_id": "NO6JO3"}), (A, "Shall I cancel it? (yes/no)"), (U, "yes"),
            (C, "cancel_reservation", {"reservation_id": "NO6JO3"}), (A, say), STOP]


BAGS = {"reservation_id": "ZFA04Y", "total_baggages": 1, "nonfree_baggages": 1, "payment_id": "credit_card_3333333"}
UPGRADE = {"reservation_id": "ZFA04Y", "cabin": "economy", "flights": [{"flight_number": "HAT005", "date": "2024-05-21"}],
           "payment_id": "gift_card_2222222"}
JUDGE_ALL = '{"results": [{"expectedOutcome": "Agent tells the user that the flight is delayed.", "reasoning": "said so", "metExpectation": true}, {"expectedOutcome": "Agent does not offer a certificate.", "reasoning": "none offered", "metExpectation": true}]}'
JUDGE_ONE_FALSE = '{"results": [{"expectedOutcome": "Agent tells the user that the flight is delayed.", "reasoning": "said so", "metExpectation": true}, {"expectedOutcome": "Agent does not offer a certificate.", "reasoning": "offered one", "metExpectation": false}]}'

SIMULATIONS = [
    # cancel_trip
    {"id": "a01", "task_id": "cancel_trip", "kind": "success", "steps": cancel_path("Done. Your refund of $260 goes to your card.")},
    {"id": "a02", "task_id": "cancel_trip", "kind": "db_mismatch", "steps": [
        (U, "Cancel NO6JO3 please, I'm mia_li_3668."), (C, "get_user_details", MIA),
        (C, "update_reservation_baggages", {"reservation_id": "NO6JO3", "total_baggages": 0, "nonfree_baggages": 0, "payment_id": "credit_card_4421486"}),
        (A, "Done, refund 260."), STOP]},
    {"id": "a03", "task_id": "cancel_trip", "kind": "communicate_missing", "steps": cancel_path("Done. Your refund of $ 2 6 0 is on its way.")},
    {"id": "a04", "task_id": "cancel_trip", "kind": "success_comma_removed", "steps": cancel_path("Cancelled; refund: $2,60 (sic).")},
    {"id": "a05", "task_id": "cancel_trip", "kind": "db_mismatch_reads_only", "steps": [
        (U, "Cancel NO6JO3."), (C, "get_reservation_details", {"reservation_id": "NO6JO3"}), (A, "It would refund 260, but I cannot."), STOP]},
    {"id": "a06", "task_id": "cancel_trip", "kind": "max_steps", "termination": "max_steps",
     "steps": cancel_path("Refund of $260 done.")[:-1]},
    {"id": "a07", "task_id": "cancel_trip", "kind": "too_many_errors", "termination": "too_many_errors",
     "steps": [(U, "Cancel NO6JO3.")] + [(C, "cancel_reservation", {"reservation_id": "BAD%02d" % i}) for i in range(10)]},
    {"id": "a08", "task_id": "cancel_trip", "kind": "db_mismatch_double_cancel", "steps":
        cancel_path("Refund of $260.")[:-1] + [(C, "cancel_reservation", {"reservation_id": "NO6JO3"}), STOP]},
    {"id": "a09", "task_id": "cancel_trip", "kind": "success_hallucinated_tool", "steps":
        [(C, "cancel_everything", {"user": "mia"})] + cancel_path("Your refund of 260 dollars is processed.")},
    {"id": "a10", "task_id": "cancel_trip", "kind": "success_after_error", "steps":
        [(U, "Cancel my trip."), (C, "cancel_reservation", {"reservation_id": "NOPE00"})] + cancel_path("Refund: 260 USD.")},
    # book_flight
    {"id": "a11", "task_id": "book_flight", "kind": "success", "steps": [
        (U, "Book JFK to ORD May 20 economy, I'm mia_li_3668."), (C, "search_direct_flight", {"origin": "JFK", "destination": "ORD", "date": "2024-05-20"}),
        (A, "HAT001 at $110. Confirm?"), (U, "yes"), (C, "book_reservation", BOOK), (A, "Booked HATHAT."), STOP]},
    {"id": "a12", "task_id": "book_flight", "kind": "success_extra_fields_coerced", "steps": [
        (U, "Book it."), (C, "book_reservation", book(passengers=[{"dob": "1990-04-05", "last_name": "Li", "first_name": "Mia", "seat": "12A"}],
                                                     payment_methods=[{"payment_id": "credit_card_4421486", "amount": 110.0}], total_baggages="0")),
        (A, "Booked."), STOP]},
    {"id": "a13", "task_id": "book_flight", "kind": "db_mismatch_insurance", "steps": [
        (U, "Book it."), (C, "book_reservation", book(insurance="yes", payment_methods=[{"payment_id": "credit_card_4421486", "amount": 140}])),
        (A, "Booked with insurance."), STOP]},
    {"id": "a14", "task_id": "book_flight", "kind": "db_mismatch_tool_error", "steps": [
        (U, "Book it."), (C, "book_reservation", book(payment_methods=[{"payment_id": "credit_card_4421486", "amount": 100}])),
        (A, "Sorry, it failed."), STOP]},
    {"id": "a15", "task_id": "book_flight", "kind": "db_mismatch_str_bags", "steps": [
        (U, "Book it."), (C, "book_reservation", book(nonfree_baggages="0")), (A, "Hmm, an error."), STOP]},
    {"id": "a16", "task_id": "book_flight", "kind": "success_agent_stop", "termination": "agent_stop", "steps": [
        (U, "Book it."), (C, "book_reservation", BOOK), (A, "Booked. ###STOP###")]},
    {"id": "a17", "task_id": "book_flight", "kind": "db_mismatch_two_bookings", "steps": [
        (U, "Book it."), (C, "book_reservation", BOOK), (C, "book_reservation", BOOK), (A, "Booked twice."), STOP]},
    # add_bags
    {"id": "a18", "task_id": "add_bags", "kind": "success", "steps": [
        (U, "Add a bag to ZFA04Y, card please."), (C, "update_reservation_baggages", BAGS), (A, "Added, $50 charged."), STOP]},
    {"id": "a19", "task_id": "add_bags", "kind": "db_mismatch_gift_card_short", "steps": [
        (U, "Add a bag."), (C, "update_reservation_baggages", dict(BAGS, payment_id="gift_card_2222222")), (A, "Not enough balance."), STOP]},
    {"id": "a20", "task_id": "add_bags", "kind": "db_mismatch_float_stored", "steps": [
        (U, "Add a bag."), (C, "update_reservation_baggages", dict(BAGS, total_baggages=1.0)), (A, "Done."), STOP]},
    {"id": "a21", "task_id": "add_bags", "kind": "success_after_certificate_error", "steps": [
        (U, "Add a bag."), (C, "send_certificate", {"user_id": "nobody", "amount": 5}),
        (C, "update_reservation_baggages", dict(BAGS, payment_id="certificate_999")), (C, "update_reservation_baggages", BAGS),
        (A, "Done."), STOP]},
    # compensate
    {"id": "a22", "task_id": "compensate", "kind": "success", "steps": [
        (U, "My flight was cancelled!"), (C, "send_certificate", {"user_id": "omar_khan_1001", "amount": 100}),
        (A, "I've issued a $100 certificate."), STOP]},
    {"id": "a23", "task_id": "compensate", "kind": "db_mismatch_amount", "steps": [
        (U, "My flight was cancelled!"), (C, "send_certificate", {"user_id": "omar_khan_1001", "amount": 150}),
        (A, "I've issued a certificate worth 100 plus 50."), STOP]},
    {"id": "a24", "task_id": "compensate", "kind": "communicate_missing", "steps": [
        (U, "My flight was cancelled!"), (C, "send_certificate", {"user_id": "omar_khan_1001", "amount": 100}),
        (A, "I've issued a certificate."), STOP]},
    {"id": "a25", "task_id": "compensate", "kind": "success_coerced_amount", "steps": [
        (U, "My flight was cancelled!"), (C, "send_certificate", {"user_id": "omar_khan_1001", "amount": "100"}),
        (A, "Certificate for 100 dollars sent."), STOP]},
    # refuse
    {"id": "a26", "task_id": "refuse", "kind": "success", "steps": [
        (U, "Cancel ZFA04Y!"), (C, "get_reservation_details", {"reservation_id": "ZFA04Y"}), (A, "I'm sorry, that cannot be cancelled."),
        (U, "Fine. ###STOP###")]},
    {"id": "a27", "task_id": "refuse", "kind": "db_mismatch_wrong_write", "steps": [
        (U, "Cancel ZFA04Y!"), (C, "cancel_reservation", {"reservation_id": "ZFA04Y"}), (A, "Cancelled."), STOP]},
    # gold_raises
    {"id": "a28", "task_id": "gold_raises", "kind": "success_gold_action_raises", "steps": [
        (U, "Sara's dob is 1987-01-03."),
        (C, "update_reservation_passengers", {"reservation_id": "ZFA04Y", "passengers": [
            {"first_name": "Omar", "last_name": "Khan", "dob": "1985-11-30"}, {"first_name": "Sara", "last_name": "Khan", "dob": "1987-01-03"}]}),
        (A, "Updated."), STOP]},
    {"id": "a29", "task_id": "gold_raises", "kind": "db_mismatch_nothing_done", "steps": [(U, "Fix it."), (A, "No."), STOP]},
    # no_criteria
    {"id": "a30", "task_id": "no_criteria", "kind": "success_no_criteria", "steps": [
        (U, "Nice weather."), (C, "cancel_reservation", {"reservation_id": "ZFA04Y"}), (A, "Indeed."), STOP]},
    {"id": "a31", "task_id": "no_criteria", "kind": "agent_error", "termination": "agent_error", "steps": [(U, "Hi")]},
    # action_basis
    {"id": "a32", "task_id": "action_basis", "kind": "success_compare_args", "steps": [
        (U, "Status of HAT003?"), (C, "get_flight_status", {"flight_number": "HAT003", "date": "2024-05-16"}), (A, "Not found that day."), STOP]},
    {"id": "a33", "task_id": "action_basis", "kind": "action_missing", "steps": [
        (U, "Status of HAT003?"), (C, "search_direct_flight", {"origin": "JFK", "destination": "SFO", "date": "2024-05-15"}), (A, "No idea."), STOP]},
    # nl_task
    {"id": "a34", "task_id": "nl_task", "kind": "success_nl", "judge": JUDGE_ALL, "steps": [
        (U, "Is HAT003 on time today?"), (C, "get_flight_status", {"flight_number": "HAT003", "date": "2024-05-15"}),
        (A, "It's delayed, sorry."), STOP]},
    {"id": "a35", "task_id": "nl_task", "kind": "nl_false", "judge": JUDGE_ONE_FALSE, "steps": [
        (U, "Is HAT003 on time today?"), (C, "get_flight_status", {"flight_number": "HAT003", "date": "2024-05-15"}),
        (A, "It's delayed; here's a certificate offer."), STOP]},
    {"id": "a36", "task_id": "nl_task", "kind": "success_judge_empty_results", "judge": '{"results": []}', "steps": [
        (U, "Is HAT003 on time?"), (A, "It's delayed."), STOP]},
    # init_state
    {"id": "a37", "task_id": "init_state", "kind": "success_initial_state", "steps": [
        (U, "Economy please, pay with the gift card."), (C, "update_reservation_flights", UPGRADE), (A, "Upgraded, $80 charged."), STOP]},
    {"id": "a38", "task_id": "init_state", "kind": "db_mismatch_other_payment", "steps": [
        (U, "Economy please."), (C, "update_reservation_flights", dict(UPGRADE, payment_id="credit_card_3333333")), (A, "Upgraded."), STOP]},
    # communicate_only
    {"id": "a39", "task_id": "communicate_only", "kind": "success_communicate", "steps": [
        (U, "Where does HAT001 land?"), (A, "It lands in CHICAGO (ORD)."), STOP]},
    {"id": "a40", "task_id": "communicate_only", "kind": "communicate_missing", "steps": [
        (U, "Where does HAT001 land?"), (A, "It lands at ORD."), STOP]},
    {"id": "a41", "task_id": "communicate_only", "kind": "user_error", "termination": "user_error", "steps": [
        (U, "Where?"), (A, "Chicago.")]},
]
