// Tool bodies of the airline domain (included by airline.h). Each follows the official
// AirlineTools method of the same name step by step; comments note where Python semantics matter.
#pragma once

#include "tau2/airline.h"
#include "tau2/calculator.h"

namespace gemma4::eval::tau2::airline {

inline const char* AirlineTools::kPaymentIdDoc =
    "The payment id stored in user profile, such as 'credit_card_7815826', 'gift_card_7815826', 'certificate_7815826'.";

inline void AirlineTools::register_tools() {
  using schema::DefField;
  const Json flight_info_def = schema::model_def(
      "FlightInfo", {DefField{"flight_number", schema::string(), "Flight number, such as 'HAT001'."},
                     DefField{"date", schema::string(), "The date for the flight in the format 'YYYY-MM-DD', such as '2024-05-01'."}});
  const Json passenger_def = schema::model_def(
      "Passenger", {DefField{"first_name", schema::string(), "Passenger's first name"},
                    DefField{"last_name", schema::string(), "Passenger's last name"},
                    DefField{"dob", schema::string(), "Date of birth in YYYY-MM-DD format"}});
  const Json payment_def = schema::model_def(
      "Payment", {DefField{"payment_id", schema::string(), "Unique identifier for the payment"},
                  DefField{"amount", schema::integer(), "Payment amount in dollars"}});
  const Json cabin_enum = schema::enumeration({"business", "economy", "basic_economy"});

  // ---- book_reservation ----
  {
    Tool t;
    t.name = "book_reservation";
    t.description = "Book a reservation.";
    t.params = {
        P{"user_id", schema::string(), "The ID of the user to book the reservation such as 'sara_doe_496'`."},
        P{"origin", schema::string(), "The IATA code for the origin city such as 'SFO'."},
        P{"destination", schema::string(), "The IATA code for the destination city such as 'JFK'."},
        P{"flight_type", schema::enumeration({"round_trip", "one_way"}), "The type of flight such as 'one_way' or 'round_trip'."},
        P{"cabin", cabin_enum, "The cabin class such as 'basic_economy', 'economy', or 'business'."},
        P{"flights", schema::array_of_model_or_dict("FlightInfo"), "An array of objects containing details about each piece of flight."},
        P{"passengers", schema::array_of_model_or_dict("Passenger"), "An array of objects containing details about each passenger."},
        P{"payment_methods", schema::array_of_model_or_dict("Payment"), "An array of objects containing details about each payment method."},
        P{"total_baggages", schema::integer(), "The total number of baggage items to book the reservation."},
        P{"nonfree_baggages", schema::integer(), "The number of non-free baggage items to book the reservation."},
        P{"insurance", schema::enumeration({"yes", "no"}), "Whether the reservation has insurance."},
    };
    t.defs = Json{{"FlightInfo", flight_info_def}, {"Passenger", passenger_def}, {"Payment", payment_def}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      const Json flights = models_if_all_dicts(a["flights"], model::flight_info(), "flights");
      const Json passengers = models_if_all_dicts(a["passengers"], model::passenger(), "passengers");
      const Json payments = models_if_all_dicts(a["payment_methods"], model::payment(), "payment_methods");
      Json& usr = user(a["user_id"]);
      const std::string reservation_id = new_reservation_id();
      Json res = validate(*model::reservation(),
                          Json{{"reservation_id", reservation_id}, {"user_id", a["user_id"]}, {"origin", a["origin"]},
                               {"destination", a["destination"]}, {"flight_type", a["flight_type"]}, {"cabin", a["cabin"]},
                               {"flights", Json::array()}, {"passengers", passengers}, {"payment_history", payments},
                               {"created_at", "2024-05-15T15:00:00"}, {"total_baggages", a["total_baggages"]},
                               {"nonfree_baggages", a["nonfree_baggages"]}, {"insurance", a["insurance"]}});
      const std::string cabin = a["cabin"].get<std::string>();  // validated above
      const auto n_passengers = static_cast<std::int64_t>(passengers.size());
      Json total_price = 0;
      std::vector<Json*> booked_dates;  // seat counts to decrement once every check passed
      for (const auto& fi : flights) {
        Json& f = flight(fi["flight_number"]);
        Json& date_data = flight_instance(fi["flight_number"], fi["date"]);
        if (date_data["status"] != "available")
          throw ToolError("Flight " + fi["flight_number"].get<std::string>() + " not available on date " + fi["date"].get<std::string>());
        if (!date_data["available_seats"].contains(cabin)) throw ToolError(py::repr(cabin));  // KeyError
        if (pyops::less(date_data["available_seats"][cabin], Json(n_passengers)))
          throw ToolError("Not enough seats on flight " + fi["flight_number"].get<std::string>());
        if (!date_data["prices"].contains(cabin)) throw ToolError(py::repr(cabin));
        const Json price = date_data["prices"][cabin];
        res["flights"].push_back(validate(*model::reservation_flight(),
                                          Json{{"flight_number", fi["flight_number"]}, {"origin", f["origin"]},
                                               {"destination", f["destination"]}, {"date", fi["date"]}, {"price", price}}));
        booked_dates.push_back(&date_data);
        total_price = pyops::arith(total_price, pyops::arith(price, Json(n_passengers), '*'), '+');
      }
      if (a["insurance"] == "yes") total_price = pyops::arith(total_price, Json(30 * n_passengers), '+');
      // `total_price += 50 * nonfree_baggages` uses the raw argument (a str fails here).
      const Json& nonfree = a["nonfree_baggages"];
      if (!pyops::is_num(nonfree))
        throw ToolError("unsupported operand type(s) for +=: '" + py::type_name(total_price) + "' and '" + py::type_name(nonfree) + "'");
      total_price = pyops::arith(total_price, pyops::arith(Json(50), nonfree, '*'), '+');

      for (const auto& pm : payments) {
        const std::string pid = pm["payment_id"].get<std::string>();
        if (!usr["payment_methods"].contains(pid)) throw ToolError("Payment method " + pid + " not found");
        const Json& method = usr["payment_methods"][pid];
        if ((method["source"] == "gift_card" || method["source"] == "certificate") && pyops::less(method["amount"], pm["amount"]))
          throw ToolError("Not enough balance in payment method " + pid);
      }
      Json total_payment = 0;
      for (const auto& pm : payments) total_payment = pyops::arith(total_payment, pm["amount"], '+');
      if (!py::equal(total_payment, total_price))
        throw ToolError("Payment amount does not add up, total price is " + py::dumps(total_price) + ", but paid " +
                        py::dumps(total_payment));
      for (const auto& pm : payments) {
        const std::string pid = pm["payment_id"].get<std::string>();
        // A certificate listed twice was popped by the first entry: Python raises KeyError here,
        // after the earlier deductions took effect.
        if (!usr["payment_methods"].contains(pid)) throw ToolError(py::repr(pid));
        Json& method = usr["payment_methods"][pid];
        if (method["source"] == "gift_card") method["amount"] = pyops::arith(method["amount"], pm["amount"], '-');
        else if (method["source"] == "certificate") usr["payment_methods"].erase(pid);
      }
      for (Json* d : booked_dates) (*d)["available_seats"][cabin] = pyops::arith((*d)["available_seats"][cabin], Json(n_passengers), '-');
      db_["reservations"][reservation_id] = res;
      usr["reservations"].push_back(reservation_id);
      return res;
    });
  }

  // ---- calculate ----
  add(calculate_tool(), [](const Kwargs& a) { return run_calculate(a); });

  // ---- cancel_reservation ----
  {
    Tool t;
    t.name = "cancel_reservation";
    t.description = "Cancel the whole reservation.";
    t.params = {P{"reservation_id", schema::string(), "The reservation ID, such as 'ZFA04Y'."}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& res = reservation(a["reservation_id"]);
      Json refunds = Json::array();
      for (const auto& p : res["payment_history"])
        refunds.push_back(validate(*model::payment(), Json{{"payment_id", p["payment_id"]}, {"amount", pyops::arith(Json(0), p["amount"], '-')}}));
      for (auto& r : refunds) res["payment_history"].push_back(r);
      res["status"] = "cancelled";
      return res;  // seats are not released (official behaviour)
    });
  }

  // ---- get_reservation_details / get_user_details / list_all_airports ----
  {
    Tool t;
    t.name = "get_reservation_details";
    t.description = "Get the details of a reservation.";
    t.params = {P{"reservation_id", schema::string(), "The reservation ID, such as '8JX2WO'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return reservation(a["reservation_id"]); });
  }
  {
    Tool t;
    t.name = "get_user_details";
    t.description = "Get the details of a user, including their reservations.";
    t.params = {P{"user_id", schema::string(), "The user ID, such as 'sara_doe_496'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return user(a["user_id"]); });
  }
  {
    Tool t;
    t.name = "list_all_airports";
    t.description = "Returns a list of all available airports.";
    add(std::move(t), [](const Kwargs&) -> Json {
      static const std::pair<const char*, const char*> airports[] = {
          {"SFO", "San Francisco"}, {"JFK", "New York"}, {"LAX", "Los Angeles"}, {"ORD", "Chicago"}, {"DFW", "Dallas"},
          {"DEN", "Denver"}, {"SEA", "Seattle"}, {"ATL", "Atlanta"}, {"MIA", "Miami"}, {"BOS", "Boston"},
          {"PHX", "Phoenix"}, {"IAH", "Houston"}, {"LAS", "Las Vegas"}, {"MCO", "Orlando"}, {"EWR", "Newark"},
          {"CLT", "Charlotte"}, {"MSP", "Minneapolis"}, {"DTW", "Detroit"}, {"PHL", "Philadelphia"}, {"LGA", "LaGuardia"}};
      Json out = Json::array();
      for (const auto& [iata, city] : airports) out.push_back(Json{{"iata", iata}, {"city", city}});
      return out;
    });
  }

  // ---- search_direct_flight / search_onestop_flight ----
  {
    Tool t;
    t.name = "search_direct_flight";
    t.description = "Search for direct flights between two cities on a specific date.";
    t.params = {P{"origin", schema::string(), "The origin city airport in three letters, such as 'JFK'."},
                P{"destination", schema::string(), "The destination city airport in three letters, such as 'LAX'."},
                P{"date", schema::string(), "The date of the flight in the format 'YYYY-MM-DD', such as '2024-01-01'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json {
      if (!a["date"].is_string()) return Json::array();  // `date in flight.dates` is simply False
      return search_direct(a["date"].get<std::string>(), &a["origin"], &a["destination"], nullptr);
    });
  }
  {
    Tool t;
    t.name = "search_onestop_flight";
    t.description = "Search for one-stop flights between two cities on a specific date.";
    t.params = {P{"origin", schema::string(), "The origin city airport in three letters, such as 'JFK'."},
                P{"destination", schema::string(), "The destination city airport in three letters, such as 'LAX'."},
                P{"date", schema::string(), "The date of the flight in the format 'YYYY-MM-DD', such as '2024-05-01'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json results = Json::array();
      if (!a["date"].is_string()) return results;
      const std::string date = a["date"].get<std::string>();
      for (Json first : search_direct(date, &a["origin"], nullptr, nullptr)) {
        first["date"] = date;
        const std::string arrival = first["scheduled_arrival_time_est"].get<std::string>();
        const std::string date2 = arrival.find("+1") != std::string::npos ? next_day(date) : date;
        for (Json second : search_direct(date2, &first["destination"], &a["destination"], &arrival)) {
          second["date"] = date2;
          results.push_back(Json::array({first, second}));
        }
      }
      return results;
    });
  }

  // ---- send_certificate ----
  {
    Tool t;
    t.name = "send_certificate";
    t.description = "Send a certificate to a user. Be careful!";
    t.params = {P{"user_id", schema::string(), "The ID of the user to book the reservation, such as 'sara_doe_496'."},
                P{"amount", schema::integer(), "The amount of the certificate to send."}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& usr = user(a["user_id"]);
      for (const char* id : {"certificate_3221322", "certificate_3221323", "certificate_3221324"}) {
        if (usr["payment_methods"].contains(id)) continue;
        usr["payment_methods"][id] = validate(*model::payment_method(), Json{{"id", id}, {"amount", a["amount"]}, {"source", "certificate"}});
        return Json("Certificate " + std::string(id) + " added to user " + py_str(a["user_id"]) + " with amount " + py_str(a["amount"]) + ".");
      }
      throw ToolError("Too many certificates");
    });
  }

  // ---- transfer_to_human_agents ----
  add(transfer_to_human_agents_tool(), [](const Kwargs&) -> Json { return Json("Transfer successful"); });

  // ---- update_reservation_baggages ----
  {
    Tool t;
    t.name = "update_reservation_baggages";
    t.description = "Update the baggage information of a reservation.";
    t.params = {P{"reservation_id", schema::string(), "The reservation ID, such as 'ZFA04Y'"},
                P{"total_baggages", schema::integer(), "The updated total number of baggage items included in the reservation."},
                P{"nonfree_baggages", schema::integer(), "The updated number of non-free baggage items included in the reservation."},
                P{"payment_id", schema::string(), kPaymentIdDoc}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& res = reservation(a["reservation_id"]);
      Json& usr = user(res["user_id"]);
      // total_price = 50 * max(0, nonfree_baggages - reservation.nonfree_baggages)
      const Json extra = pyops::arith(a["nonfree_baggages"], res["nonfree_baggages"], '-');
      const Json clipped = pyops::less(Json(0), extra) ? extra : Json(0);
      const Json total_price = pyops::arith(Json(50), clipped, '*');
      Json payment = payment_for_update(usr, a["payment_id"], total_price);
      if (!payment.is_null()) res["payment_history"].push_back(payment);
      res["total_baggages"] = a["total_baggages"];  // stored as given
      res["nonfree_baggages"] = a["nonfree_baggages"];
      return res;
    });
  }

  // ---- update_reservation_flights ----
  {
    Tool t;
    t.name = "update_reservation_flights";
    t.description = "Update the flight information of a reservation.";
    t.params = {P{"reservation_id", schema::string(), "The reservation ID, such as 'ZFA04Y'."},
                P{"cabin", cabin_enum, "The cabin class of the reservation"},
                P{"flights", schema::array_of_model_or_dict("FlightInfo"),
                  "An array of objects containing details about each piece of flight in the ENTIRE new reservation. Even if the a "
                  "flight segment is not changed, it should still be included in the array."},
                P{"payment_id", schema::string(), kPaymentIdDoc}};
    t.defs = Json{{"FlightInfo", flight_info_def}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      const Json flights = models_if_all_dicts(a["flights"], model::flight_info(), "flights");
      Json& res = reservation(a["reservation_id"]);
      Json& usr = user(res["user_id"]);
      const Json& cabin = a["cabin"];
      const auto n_passengers = static_cast<std::int64_t>(res["passengers"].size());
      Json total_price = 0;
      Json new_flights = Json::array();
      for (const auto& fi : flights) {
        const Json* kept = nullptr;
        for (const auto& rf : res["flights"])
          if (rf["flight_number"] == fi["flight_number"] && rf["date"] == fi["date"] && py::equal(cabin, res["cabin"])) {
            kept = &rf;
            break;
          }
        if (kept) {
          total_price = pyops::arith(total_price, pyops::arith((*kept)["price"], Json(n_passengers), '*'), '+');
          new_flights.push_back(*kept);
          continue;
        }
        Json& f = flight(fi["flight_number"]);
        Json& date_data = flight_instance(fi["flight_number"], fi["date"]);
        if (date_data["status"] != "available")
          throw ToolError("Flight " + fi["flight_number"].get<std::string>() + " not available on date " + fi["date"].get<std::string>());
        const std::string cabin_key = cabin.is_string() ? cabin.get<std::string>() : std::string();
        if (!cabin.is_string() || !date_data["available_seats"].contains(cabin_key))
          throw ToolError(cabin.is_string() ? py::repr(cabin_key) : py_str(cabin));  // KeyError
        if (pyops::less(date_data["available_seats"][cabin_key], Json(n_passengers)))
          throw ToolError("Not enough seats on flight " + fi["flight_number"].get<std::string>());
        if (!date_data["prices"].contains(cabin_key)) throw ToolError(py::repr(cabin_key));
        Json rf = validate(*model::reservation_flight(), Json{{"flight_number", fi["flight_number"]}, {"origin", f["origin"]},
                                                               {"destination", f["destination"]}, {"date", fi["date"]},
                                                               {"price", date_data["prices"][cabin_key]}});
        total_price = pyops::arith(total_price, pyops::arith(rf["price"], Json(n_passengers), '*'), '+');
        new_flights.push_back(rf);
      }
      Json paid = 0;
      for (const auto& rf : res["flights"]) paid = pyops::arith(paid, rf["price"], '+');
      total_price = pyops::arith(total_price, pyops::arith(paid, Json(n_passengers), '*'), '-');
      Json payment = payment_for_update(usr, a["payment_id"], total_price);
      if (!payment.is_null()) res["payment_history"].push_back(payment);
      res["flights"] = new_flights;
      res["cabin"] = cabin;  // seats are not updated (official behaviour)
      return res;
    });
  }

  // ---- update_reservation_passengers ----
  {
    Tool t;
    t.name = "update_reservation_passengers";
    t.description = "Update the passenger information of a reservation.";
    t.params = {P{"reservation_id", schema::string(), "The reservation ID, such as 'ZFA04Y'."},
                P{"passengers", schema::array_of_model_or_dict("Passenger"), "An array of objects containing details about each passenger."}};
    t.defs = Json{{"Passenger", passenger_def}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      const Json passengers = models_if_all_dicts(a["passengers"], model::passenger(), "passengers");
      Json& res = reservation(a["reservation_id"]);
      if (passengers.size() != res["passengers"].size()) throw ToolError("Number of passengers does not match");
      res["passengers"] = passengers;
      return res;
    });
  }

  // ---- get_flight_status ----
  {
    Tool t;
    t.name = "get_flight_status";
    t.description = "Get the status of a flight.";
    t.params = {P{"flight_number", schema::string(), "The flight number."}, P{"date", schema::string(), "The date of the flight."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return flight_instance(a["flight_number"], a["date"])["status"]; });
  }
}

// The airline environment from the official data folder (data/tau2/domains/airline).
inline std::unique_ptr<Environment> make_environment(const Json& db, const std::string& policy) {
  return std::make_unique<Environment>("airline", policy, std::make_unique<AirlineTools>(db));
}
inline std::unique_ptr<Environment> load_environment(const std::string& domain_dir) {
  return make_environment(load_json_file(domain_dir + "/db.json"), load_text_file(domain_dir + "/policy.md"));
}

}  // namespace gemma4::eval::tau2::airline
