// The airline domain: flights, users, reservations (tau2 src/tau2/domains/airline).
//
// Every tool follows the official semantics, including its quirks, because the DB reward compares
// our final state with the state the gold actions produce:
//   * cancel_reservation refunds every payment but does not release seats;
//   * update_reservation_flights does not change seat counts either, and keeps the old price of
//     an unchanged segment only when the cabin is unchanged;
//   * update_reservation_baggages stores the argument values as given (no validation), while
//     book_reservation validates through the Reservation model;
//   * new reservation ids are HATHAT, HATHAU, HATHAV; certificates certificate_3221322.. ;
//   * "now" is 2024-05-15T15:00:00.
#pragma once

#include "tau2/environment.h"

#include <fstream>
#include <sstream>

namespace gemma4::eval::tau2::airline {

// ---- data model (data_model.py) ----------------------------------------------------------------
namespace model {
using namespace types;
inline FieldTypePtr cabin() { return literal({"business", "economy", "basic_economy"}); }
inline FieldTypePtr flight_info() { return types::model("FlightInfo", {req("flight_number", str()), req("date", str())}); }
inline FieldTypePtr passenger() {
  return types::model("Passenger", {req("first_name", str()), req("last_name", str()), req("dob", str())});
}
inline FieldTypePtr payment() { return types::model("Payment", {req("payment_id", str()), req("amount", integer())}); }
inline FieldTypePtr payment_method() {
  auto credit_card = types::model("CreditCard", {req("source", literal({"credit_card"})), req("id", str()),
                                                 req("brand", str()), req("last_four", str())});
  auto gift_card = types::model("GiftCard", {req("source", literal({"gift_card"})), req("id", str()), req("amount", number())});
  auto certificate = types::model("Certificate", {req("source", literal({"certificate"})), req("id", str()), req("amount", number())});
  return one_of({credit_card, gift_card, certificate});
}
inline FieldTypePtr seat_counts() { return dict(integer()); }  // dict[CabinClass, int]
inline FieldTypePtr flight_date_status() {
  auto available = types::model("FlightDateStatusAvailable", {req("status", literal({"available"})),
                                                              req("available_seats", seat_counts()), req("prices", seat_counts())});
  auto landed = types::model("FlightDateStatusLanded", {req("status", literal({"landed"})), req("actual_departure_time_est", str()),
                                                        req("actual_arrival_time_est", str())});
  auto cancelled = types::model("FlightDateStatusCancelled", {req("status", literal({"cancelled"}))});
  auto delayed = types::model("FlightDateStatusDelayed", {req("status", literal({"delayed"})), req("estimated_departure_time_est", str()),
                                                          req("estimated_arrival_time_est", str())});
  auto flying = types::model("FlightDataStatusFlying", {req("status", literal({"flying"})), req("actual_departure_time_est", str()),
                                                        req("estimated_arrival_time_est", str())});
  auto on_time = types::model("FlightDataStatusOnTime", {req("status", literal({"on time"})), req("estimated_departure_time_est", str()),
                                                         req("estimated_arrival_time_est", str())});
  return one_of({available, landed, cancelled, delayed, flying, on_time});
}
inline FieldTypePtr flight() {
  return types::model("Flight", {req("flight_number", str()), req("origin", str()), req("destination", str()),
                                 req("scheduled_departure_time_est", str()), req("scheduled_arrival_time_est", str()),
                                 req("dates", dict(flight_date_status()))});
}
inline FieldTypePtr user() {
  auto name = types::model("Name", {req("first_name", str()), req("last_name", str())});
  auto address = types::model("Address", {req("address1", str()), opt("address2", str()), req("city", str()),
                                          req("country", str()), req("state", str()), req("zip", str())});
  return types::model("User", {req("user_id", str()), req("name", name), req("address", address), req("email", str()),
                               req("dob", str()), req("payment_methods", dict(payment_method())),
                               req("saved_passengers", list(passenger())), req("membership", literal({"gold", "silver", "regular"})),
                               req("reservations", list(str()))});
}
inline FieldTypePtr reservation_flight() {
  return types::model("ReservationFlight", {req("flight_number", str()), req("origin", str()), req("destination", str()),
                                            req("date", str()), req("price", integer())});
}
inline FieldTypePtr reservation() {
  return types::model("Reservation", {req("reservation_id", str()), req("user_id", str()), req("origin", str()),
                                      req("destination", str()), req("flight_type", literal({"round_trip", "one_way"})),
                                      req("cabin", cabin()), req("flights", list(reservation_flight())),
                                      req("passengers", list(passenger())), req("payment_history", list(payment())),
                                      req("created_at", str()), req("total_baggages", integer()), req("nonfree_baggages", integer()),
                                      req("insurance", literal({"yes", "no"})), opt("status", literal({"cancelled"}))});
}
inline FieldTypePtr db() {
  return types::model("FlightDB", {req("flights", dict(flight())), req("users", dict(user())), req("reservations", dict(reservation()))});
}
}  // namespace model

// ---- tools (tools.py) ---------------------------------------------------------------------------
class AirlineTools : public ToolKit {
 public:
  explicit AirlineTools(const Json& raw_db, const std::string& source = "airline db")
      : ToolKit("AirlineTools", model::db(), validate_db(*model::db(), raw_db, source)) {
    register_tools();
  }

 private:
  using P = ToolParam;

  Json& user(const Json& user_id) {
    auto& users = db_["users"];
    if (!user_id.is_string() || !users.contains(user_id.get<std::string>()))
      throw ToolError("User " + py_str(user_id) + " not found");
    return users[user_id.get<std::string>()];
  }
  Json& reservation(const Json& reservation_id) {
    auto& res = db_["reservations"];
    if (!reservation_id.is_string() || !res.contains(reservation_id.get<std::string>()))
      throw ToolError("Reservation " + py_str(reservation_id) + " not found");
    return res[reservation_id.get<std::string>()];
  }
  Json& flight(const Json& flight_number) {
    auto& flights = db_["flights"];
    if (!flight_number.is_string() || !flights.contains(flight_number.get<std::string>()))
      throw ToolError("Flight " + py_str(flight_number) + " not found");
    return flights[flight_number.get<std::string>()];
  }
  Json& flight_instance(const Json& flight_number, const Json& date) {
    Json& f = flight(flight_number);
    if (!date.is_string() || !f["dates"].contains(date.get<std::string>()))
      throw ToolError("Flight " + py_str(flight_number) + " not found on date " + py_str(date));
    return f["dates"][date.get<std::string>()];
  }
  // str() of a value in an f-string.
  static std::string py_str(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "None";
    if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
    return py::dumps(v);
  }

  std::string new_reservation_id() const {
    for (const char* id : {"HATHAT", "HATHAU", "HATHAV"})
      if (!db_["reservations"].contains(id)) return id;
    throw ToolError("Too many reservations");
  }

  // Direct flights on `date` (only dates whose status is "available").
  Json search_direct(const std::string& date, const Json* origin, const Json* destination, const std::string* leave_after) const {
    Json results = Json::array();
    for (auto it = db_["flights"].begin(); it != db_["flights"].end(); ++it) {
      const Json& f = it.value();
      if (origin && !py::equal(f["origin"], *origin)) continue;
      if (destination && !py::equal(f["destination"], *destination)) continue;
      if (!f["dates"].contains(date)) continue;
      const Json& d = f["dates"][date];
      if (d["status"] != "available") continue;
      if (leave_after && f["scheduled_departure_time_est"].get<std::string>() < *leave_after) continue;
      results.push_back(Json{{"flight_number", f["flight_number"]},
                             {"origin", f["origin"]},
                             {"destination", f["destination"]},
                             {"status", "available"},
                             {"scheduled_departure_time_est", f["scheduled_departure_time_est"]},
                             {"scheduled_arrival_time_est", f["scheduled_arrival_time_est"]},
                             {"date", nullptr},
                             {"available_seats", d["available_seats"]},
                             {"prices", d["prices"]}});
    }
    return results;
  }

  // _payment_for_update: checks and charges an existing payment method; returns the payment
  // record, or null when the price is 0.
  Json payment_for_update(Json& usr, const Json& payment_id, const Json& total_price) {
    if (!payment_id.is_string() || !usr["payment_methods"].contains(payment_id.get<std::string>()))
      throw ToolError("Payment method not found");
    Json& method = usr["payment_methods"][payment_id.get<std::string>()];
    if (method["source"] == "certificate") throw ToolError("Certificate cannot be used to update reservation");
    if (method["source"] == "gift_card" && pyops::less(method["amount"], total_price))
      throw ToolError("Gift card balance is not enough");
    if (method["source"] == "gift_card") method["amount"] = pyops::arith(method["amount"], total_price, '-');
    if (pyops::num(total_price) != 0) return validate(*model::payment(), Json{{"payment_id", payment_id}, {"amount", total_price}});
    return nullptr;
  }

  // `all(isinstance(x, dict) for x in xs)` then Model(**x) for each.
  static Json models_if_all_dicts(const Json& xs, const FieldTypePtr& type, const char* name) {
    if (!xs.is_array()) throw ToolError(std::string("'") + py::type_name(xs) + "' object is not iterable as a list of " + name);
    bool all_dicts = true;
    for (const auto& x : xs) all_dicts = all_dicts && x.is_object();
    if (!all_dicts) throw ToolError(std::string("every entry of ") + name + " must be an object");
    Json out = Json::array();
    for (const auto& x : xs) out.push_back(validate(*type, x));
    return out;
  }

  static const char* kPaymentIdDoc;
  void register_tools();

 public:
  // search_onestop_flight's next-day date: f"2024-05-{int(date[-2:]) + 1}" (the official code
  // assumes May 2024 and does not zero-pad).
  static std::string next_day(const std::string& date) {
    const std::string tail = date.size() >= 2 ? date.substr(date.size() - 2) : date;
    int day = 0;
    try {
      size_t used = 0;
      day = std::stoi(tail, &used);
      if (used != tail.size()) throw ToolError("invalid literal for int() with base 10: " + py::repr(tail));
    } catch (const std::logic_error&) {
      throw ToolError("invalid literal for int() with base 10: " + py::repr(tail));
    }
    return "2024-05-" + std::to_string(day + 1);
  }
};

}  // namespace gemma4::eval::tau2::airline

#include "tau2/airline_tools.h"
