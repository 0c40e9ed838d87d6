// The telecom domain (tau2 src/tau2/domains/telecom): the agent's customer/line/bill tools, and
// the *user's* simulated phone with its own tools ("dual control"). The environment keeps the two
// in sync after every step (line active, roaming allowed, data cap, payment requests).
//
// "Today" is 2025-02-25. Official quirks kept:
//   * tool results that are plain dicts show their numbers and booleans as strings
//     ({"charge": "4.0"}), because Environment.to_json_str applies str() one level deep;
//   * a refuel on a customer without a draft bill creates one with a random id (uuid4), so the
//     gold and predicted databases then differ, exactly as officially;
//   * the default VPN profile is one object shared by every phone of the process: once a phone's
//     VPN is "broken" (initialization action break_vpn), later VPN connections are slow too.
#pragma once

#include "tau2/environment.h"

#include <atomic>
#include <cstdio>
#include <random>

namespace gemma4::eval::tau2::telecom {

inline constexpr const char* kToday = "2025-02-25";

// ---- data models (data_model.py, user_data_model.py) ---------------------------------------------
namespace model {
using namespace types;
inline FieldTypePtr line_status() { return literal({"Active", "Suspended", "Pending Activation", "Closed"}); }
inline FieldTypePtr bill_status() { return literal({"Draft", "Issued", "Awaiting Payment", "Paid", "Overdue", "Disputed"}); }
inline FieldTypePtr line_item() {
  return strict_model("LineItem", {req("description", str()), req("amount", number()), req("date", date()), req("item_type", str())});
}
inline FieldTypePtr bill() {
  return strict_model("Bill", {req("bill_id", str()), req("customer_id", str()), req("period_start", date()), req("period_end", date()),
                               req("issue_date", date()), req("total_due", number()), req("due_date", date()),
                               dflt("line_items", list(line_item()), Json::array()), dflt("status", bill_status(), "Draft")});
}
inline FieldTypePtr line() {
  return strict_model("Line", {req("line_id", str()), req("phone_number", str()), dflt("status", line_status(), "Pending Activation"),
                               req("plan_id", str()), opt("device_id", str()), dflt("data_used_gb", number(), 0.0),
                               dflt("data_refueling_gb", number(), 0.0), dflt("roaming_enabled", boolean(), false),
                               opt("contract_end_date", date()), opt("last_plan_change_date", date()),
                               opt("last_sim_replacement_date", date()), opt("suspension_start_date", date())});
}
inline FieldTypePtr db() {
  auto plan = strict_model("Plan", {req("plan_id", str()), req("name", str()), req("data_limit_gb", number()),
                                    req("price_per_month", number()), req("data_refueling_price_per_gb", number())});
  auto device = strict_model("Device", {req("device_id", str()), req("device_type", literal({"phone", "router", "tablet", "watch", "other"})),
                                        req("model", str()), opt("imei", str()), req("is_esim_capable", boolean()),
                                        dflt("activated", boolean(), false), opt("activation_date", datetime()),
                                        opt("last_esim_transfer_date", datetime())});
  auto address = strict_model("Address", {req("street", str()), req("city", str()), req("state", str()), req("zip_code", str())});
  auto payment_method = strict_model("PaymentMethod", {req("method_type", literal({"Credit Card", "Debit Card", "PayPal"})),
                                                       req("account_number_last_4", str()), req("expiration_date", str())});
  auto customer = strict_model(
      "Customer", {req("customer_id", str()), req("full_name", str()), req("date_of_birth", str()), req("email", str()),
                   req("phone_number", str()), req("address", address),
                   dflt("account_status", literal({"Active", "Suspended", "Pending Verification", "Closed"}), "Pending Verification"),
                   dflt("payment_methods", list(payment_method), Json::array()), dflt("line_ids", list(str()), Json::array()),
                   dflt("bill_ids", list(str()), Json::array()),
                   dflt("created_at", datetime(), "2025-01-01"),  // DEFAULT_START_DATE is a date: str() gives no time
                   opt("last_extension_date", date()), dflt("goodwill_credit_used_this_year", number(), 0.0)});
  auto t = strict_model("TelecomDB", {dflt("plans", list(plan), Json::array()), dflt("customers", list(customer), Json::array()),
                                      dflt("lines", list(line()), Json::array()), dflt("bills", list(bill()), Json::array()),
                                      dflt("devices", list(device), Json::array())});
  return t;
}

inline FieldTypePtr signal() { return literal({"none", "poor", "fair", "good", "excellent"}); }
inline FieldTypePtr technology() { return literal({"none", "2G", "3G", "4G", "5G"}); }
inline Json default_apn() {
  return Json{{"apn_name", "internet"}, {"reset_at_reboot", false}, {"mms_apn", "mms"},
              {"mmsc_url", "http://mms.carrier.com/mms/wapenc"}, {"mms_proxy", nullptr}, {"mms_port", nullptr}};
}
inline FieldTypePtr apn_settings() {
  return strict_model("APNSettings", {dflt("apn_name", literal({"internet", "broken"}), "internet"), dflt("reset_at_reboot", boolean(), false),
                                      dflt("mms_apn", optional(str()), "mms"),
                                      dflt("mmsc_url", optional(str()), "http://mms.carrier.com/mms/wapenc"), opt("mms_proxy", str()),
                                      opt("mms_port", integer())});
}
inline Json permissions(bool sms, bool storage, bool phone, bool network) {
  return Json{{"sms", sms}, {"storage", storage}, {"phone", phone}, {"network", network}};
}
inline FieldTypePtr app_status() {
  auto perms = strict_model("AppPermissions", {dflt("sms", boolean(), false), dflt("storage", boolean(), false),
                                               dflt("phone", boolean(), false), dflt("network", boolean(), false)});
  return strict_model("AppStatus", {req("app_name", str()), dflt("permissions", perms, permissions(false, false, false, false))});
}
inline FieldTypePtr vpn_details() {
  // server_performance has validate_default=True, which does not change its value.
  return strict_model("VpnDetails", {opt("server_address", str()), opt("protocol", str()),
                                     dflt("server_performance", literal({"unknown", "poor", "fair", "good", "excellent"}), "unknown")});
}
inline Json default_device() {
  return Json{{"sim_card_status", "active"}, {"sim_card_missing", false}, {"airplane_mode", false}, {"network_signal_strength", "good"},
              {"network_technology_connected", "5G"}, {"network_connection_status", "connected"}, {"battery_level", 80},
              {"data_enabled", true}, {"roaming_enabled", false}, {"network_mode_preference", "4g_5g_preferred"},
              {"active_apn_settings", default_apn()}, {"wifi_enabled", false}, {"wifi_connected", false}, {"wifi_ssid", nullptr},
              {"wifi_signal_strength", "none"}, {"wifi_calling_enabled", false}, {"wifi_calling_mms_over_wifi", false},
              {"data_saver_mode", false}, {"vpn_enabled_setting", false}, {"vpn_connected", false}, {"vpn_details", nullptr},
              {"app_statuses", Json{{"messaging", Json{{"app_name", "messaging"}, {"permissions", permissions(true, true, true, false)}}},
                                    {"browser", Json{{"app_name", "browser"}, {"permissions", permissions(false, true, false, true)}}}}}};
}
inline Json default_surroundings() {
  return Json{{"name", nullptr}, {"phone_number", nullptr}, {"is_abroad", false}, {"roaming_allowed", false},
              {"signal_strength", Json{{"2G", "poor"}, {"3G", "fair"}, {"4G", "good"}, {"5G", "excellent"}}},
              {"mobile_data_usage_exceeded", false}, {"line_active", true}, {"payment_request", nullptr}};
}
inline FieldTypePtr user_db() {
  auto device = strict_model(
      "MockPhoneAttributes",
      {dflt("sim_card_status", literal({"active", "missing", "locked_pin", "locked_puk"}), "active"), dflt("sim_card_missing", boolean(), false),
       dflt("airplane_mode", boolean(), false), dflt("network_signal_strength", signal(), "good"),
       dflt("network_technology_connected", technology(), "5G"),
       dflt("network_connection_status", literal({"connected", "searching", "no_service", "emergency_only"}), "connected"),
       dflt("battery_level", integer(), 80), dflt("data_enabled", boolean(), true), dflt("roaming_enabled", boolean(), false),
       dflt("network_mode_preference", literal({"4g_5g_preferred", "4g_only", "3g_only", "2g_only"}), "4g_5g_preferred"),
       dflt("active_apn_settings", apn_settings(), default_apn()), dflt("wifi_enabled", boolean(), false),
       dflt("wifi_connected", boolean(), false), opt("wifi_ssid", str()), dflt("wifi_signal_strength", signal(), "none"),
       dflt("wifi_calling_enabled", boolean(), false), dflt("wifi_calling_mms_over_wifi", boolean(), false),
       dflt("data_saver_mode", boolean(), false), dflt("vpn_enabled_setting", boolean(), false), dflt("vpn_connected", boolean(), false),
       opt("vpn_details", vpn_details()), dflt("app_statuses", dict(app_status()), default_device()["app_statuses"])});
  auto payment_request = strict_model("PaymentRequest", {req("bill_id", str()), req("amount_due", number()), dflt("paid", boolean(), false)});
  auto surroundings = strict_model(
      "UserSurroundings",
      {opt("name", str()), opt("phone_number", str()), dflt("is_abroad", boolean(), false), dflt("roaming_allowed", boolean(), false),
       dflt("signal_strength", dict_with_keys({"none", "2G", "3G", "4G", "5G"}, signal()), default_surroundings()["signal_strength"]),
       dflt("mobile_data_usage_exceeded", boolean(), false), dflt("line_active", boolean(), true), opt("payment_request", payment_request)});
  return strict_model("TelecomUserDB", {dflt("device", device, default_device()), dflt("surroundings", surroundings, default_surroundings())});
}
}  // namespace model

// str() of a value inside an f-string.
inline std::string py_str(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return py::dumps(v);
}

// Environment.to_json_str applies str() to the numbers and booleans of a returned plain dict
// (one level deep: nested model dumps are left alone).
inline Json plain_dict(Json d) {
  for (auto it = d.begin(); it != d.end(); ++it)
    if (it->is_number() || it->is_boolean()) *it = py_str(*it);
  return d;
}

// "%.2f" (f"{x:.2f}").
inline std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

// ---- the agent's tools (tools.py) -----------------------------------------------------------------
class TelecomTools : public ToolKit {
 public:
  explicit TelecomTools(const Json& raw_db, const std::string& source = "telecom db")
      : ToolKit("TelecomTools", model::db(), validate_db(*model::db(), raw_db, source)) {
    register_tools();
  }

  Json& customer_by_id(const Json& id) {
    for (auto& c : db_["customers"])
      if (py::equal(c["customer_id"], id)) return c;
    throw ToolError("Customer with ID " + py_str(id) + " not found");
  }
  Json& customer_by_phone(const Json& phone) {
    for (auto& c : db_["customers"]) {
      if (py::equal(c["phone_number"], phone)) return c;
      for (const auto& line_id : c["line_ids"])
        if (py::equal(line_by_id(line_id)["phone_number"], phone)) return c;
    }
    throw ToolError("Customer with phone number " + py_str(phone) + " not found");
  }
  Json& line_by_phone(const Json& phone) {
    for (auto& l : db_["lines"])
      if (py::equal(l["phone_number"], phone)) return l;
    throw ToolError("Line with phone number " + py_str(phone) + " not found");
  }
  Json& line_by_id(const Json& id) {
    for (auto& l : db_["lines"])
      if (py::equal(l["line_id"], id)) return l;
    throw ToolError("Line with ID " + py_str(id) + " not found");
  }
  Json& plan_by_id(const Json& id) {
    for (auto& p : db_["plans"])
      if (py::equal(p["plan_id"], id)) return p;
    throw ToolError("Plan with ID " + py_str(id) + " not found");
  }
  Json& device_by_id(const Json& id) {
    for (auto& d : db_["devices"])
      if (py::equal(d["device_id"], id)) return d;
    throw ToolError("Device with ID " + py_str(id) + " not found");
  }
  Json& bill_by_id(const Json& id) {
    for (auto& b : db_["bills"])
      if (py::equal(b["bill_id"], id)) return b;
    throw ToolError("Bill with ID " + py_str(id) + " not found");
  }
  Json& target_line(const Json& customer_id, const Json& line_id) {
    Json& c = customer_by_id(customer_id);
    bool owned = false;
    for (const auto& l : c["line_ids"]) owned = owned || py::equal(l, line_id);
    if (!owned) throw ToolError("Line " + py_str(line_id) + " not found for customer " + py_str(customer_id));
    return line_by_id(line_id);
  }
  std::vector<Json*> bills_awaiting_payment(Json& customer) {
    std::vector<Json*> out;
    for (const auto& bill_id : customer["bill_ids"]) {
      Json& b = bill_by_id(bill_id);
      if (b["status"] == "Awaiting Payment") out.push_back(&b);
    }
    return out;
  }
  void set_bill_to_paid(const Json& bill_id) { bill_by_id(bill_id)["status"] = "Paid"; }

  Json call_env_function(const std::string& name, const Json& args) override;

 private:
  using P = ToolParam;
  void register_tools();
  void apply_one_time_charge(const Json& customer_id, const Json& amount, const std::string& description);
};

inline void TelecomTools::apply_one_time_charge(const Json& customer_id, const Json& amount, const std::string& description) {
  Json& c = customer_by_id(customer_id);
  Json* draft = nullptr;
  for (const auto& bill_id : c["bill_ids"]) {
    Json& b = bill_by_id(bill_id);
    if (b["status"] == "Draft") {
      draft = &b;
      break;
    }
  }
  if (draft == nullptr) {
    // f"B{uuid.uuid4().hex[:8]}": random, as officially (see the header comment).
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char id[16];
    std::snprintf(id, sizeof(id), "B%08x", static_cast<unsigned>(rng() & 0xffffffffu));
    // Next cycle: today 2025-02-25 -> 2025-03-01 .. 2025-03-31, due 14 days after issue.
    db_["bills"].push_back(validate(*model::bill(), Json{{"bill_id", id}, {"customer_id", customer_id}, {"period_start", "2025-03-01"},
                                                         {"period_end", "2025-03-31"}, {"issue_date", "2025-03-01"}, {"total_due", 0},
                                                         {"due_date", "2025-03-15"}, {"status", "Draft"}}));
    c["bill_ids"].push_back(id);
    draft = &db_["bills"].back();
  }
  const bool credit = pyops::less(amount, Json(0));
  (*draft)["line_items"].push_back(validate(*model::line_item(), Json{{"description", description}, {"amount", amount},
                                                                      {"date", kToday}, {"item_type", credit ? "Credit" : "Charge"}}));
  (*draft)["total_due"] = pyops::arith((*draft)["total_due"], amount, '+');
}

inline void TelecomTools::register_tools() {
  auto tool = [](const char* name, const char* desc, std::vector<P> params, ToolType type) {
    Tool t;
    t.name = name;
    t.description = desc;
    t.params = std::move(params);
    t.type = type;
    t.mutates_state = type == ToolType::Write;
    return t;
  };
  const P customer_id{"customer_id", schema::string(), "ID of the customer who owns the line."};

  add(tool("get_customer_by_phone", "Finds a customer by their primary contact or line phone number.",
           {P{"phone_number", schema::string(), "The phone number to search for."}}, ToolType::Read),
      [this](const Kwargs& a) -> Json { return customer_by_phone(a["phone_number"]); });
  add(tool("get_customer_by_id", "Retrieves a customer directly by their unique ID.",
           {P{"customer_id", schema::string(), "The unique identifier of the customer."}}, ToolType::Read),
      [this](const Kwargs& a) -> Json { return customer_by_id(a["customer_id"]); });
  add(tool("get_customer_by_name",
           "Searches for customers by name and DOB. May return multiple matches if names are similar,\n\nDOB helps disambiguate.",
           {P{"full_name", schema::string(), "The full name of the customer."},
            P{"dob", schema::string(), "Date of birth for verification, in the format YYYY-MM-DD."}},
           ToolType::Read),
      [this](const Kwargs& a) -> Json {
        Json out = Json::array();
        const std::string name = pyops::lower(pyops::str(a["full_name"], "lower"));
        for (const auto& c : db_["customers"])
          if (pyops::lower(c["full_name"].get<std::string>()) == name && py::equal(c["date_of_birth"], a["dob"])) out.push_back(c);
        return out;
      });
  add(tool("get_details_by_id",
           "Retrieves the details for a given ID.\n\nThe ID must be a valid ID for a Customer, Line, Device, Bill, or Plan.",
           {P{"id", schema::string(), "The ID of the object to retrieve."}}, ToolType::Read),
      [this](const Kwargs& a) -> Json {
        const std::string& id = pyops::str(a["id"], "startswith");
        if (id.rfind("L", 0) == 0) return line_by_id(a["id"]);
        if (id.rfind("D", 0) == 0) return device_by_id(a["id"]);
        if (id.rfind("B", 0) == 0) return bill_by_id(a["id"]);
        if (id.rfind("C", 0) == 0) return customer_by_id(a["id"]);
        if (id.rfind("P", 0) == 0) return plan_by_id(a["id"]);
        throw ToolError("Unknown ID format or type: " + id);
      });
  add(tool("suspend_line",
           "Suspends a specific line (max 6 months).\n\nChecks: Line status must be Active.\nLogic: Sets line status to Suspended, "
           "records suspension_start_date.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to suspend."},
            P{"reason", schema::string(), "Reason for suspension."}},
           ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        if (l["status"] != "Active") throw ToolError("Line must be active to suspend");
        l["status"] = "Suspended";
        l["suspension_start_date"] = kToday;
        return Json{{"message", "Line suspended successfully. $5/month holding fee will apply."}, {"line", l}};
      });
  add(tool("resume_line",
           "Resumes a suspended line.\n\nChecks: Line status must be Suspended or Pending Activation.\nLogic: Sets line status to "
           "Active, clears suspension_start_date.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to resume."}}, ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        if (l["status"] != "Suspended" && l["status"] != "Pending Activation") throw ToolError("Line must be suspended to resume");
        l["status"] = "Active";
        l["suspension_start_date"] = nullptr;
        return Json{{"message", "Line resumed successfully"}, {"line", l}};
      });
  {
    Tool t = tool("get_bills_for_customer", "Retrieves a list of the customer's bills, most recent first.",
                  {P{"customer_id", schema::string(), "ID of the customer."}}, ToolType::Read);
    t.params.push_back(P{"limit", schema::integer(), "Maximum number of bills to return.", false, 12});
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& c = customer_by_id(a["customer_id"]);
      std::vector<Json> bills;
      for (const auto& id : c["bill_ids"]) bills.push_back(bill_by_id(id));
      // sorted(..., key=issue_date, reverse=True) is stable: equal dates keep their order.
      std::stable_sort(bills.begin(), bills.end(), [](const Json& x, const Json& y) {
        return x["issue_date"].get<std::string>() > y["issue_date"].get<std::string>();
      });
      const Json& limit = a["limit"];
      if (!limit.is_number_integer() && !limit.is_boolean() && !limit.is_null())
        throw ToolError("slice indices must be integers or None or have an __index__ method");
      std::int64_t n = static_cast<std::int64_t>(bills.size());
      std::int64_t stop = n;
      if (!limit.is_null()) {
        stop = limit.is_boolean() ? (limit.get<bool>() ? 1 : 0) : limit.get<std::int64_t>();
        if (stop < 0) stop = std::max<std::int64_t>(0, n + stop);
        stop = std::min(stop, n);
      }
      Json out = Json::array();
      for (std::int64_t i = 0; i < stop; ++i) out.push_back(bills[static_cast<size_t>(i)]);
      return out;
    });
  }
  add(tool("send_payment_request",
           "Sends a payment request to the customer for a specific bill.\n\nChecks:\n    - Customer exists\n    - Bill exists and "
           "belongs to the customer\n    - No other bills are already awaiting payment for this customer\nLogic: Sets bill status to "
           "AWAITING_PAYMENT and notifies customer.\nWarning: This method does not check if the bill is already PAID.\nAlways check "
           "the bill status before calling this method.",
           {P{"customer_id", schema::string(), "ID of the customer who owns the bill."},
            P{"bill_id", schema::string(), "ID of the bill to send payment request for."}},
           ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& c = customer_by_id(a["customer_id"]);
        if (!bills_awaiting_payment(c).empty()) throw ToolError("A bill is already awaiting payment for this customer");
        bool owned = false;
        for (const auto& b : c["bill_ids"]) owned = owned || py::equal(b, a["bill_id"]);
        if (!owned) throw ToolError("Bill " + py_str(a["bill_id"]) + " not found for customer " + py_str(a["customer_id"]));
        Json& b = bill_by_id(a["bill_id"]);
        b["status"] = "Awaiting Payment";
        return Json("Payment request sent to the customer for bill " + b["bill_id"].get<std::string>());
      });
  add(tool("get_data_usage",
           "Retrieves current billing cycle data usage for a line, including data\n\nrefueling amount, data limit, and cycle end date.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to check usage for."}}, ToolType::Read),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        Json& p = plan_by_id(l["plan_id"]);
        return plain_dict(Json{{"line_id", a["line_id"]}, {"data_used_gb", l["data_used_gb"]}, {"data_limit_gb", p["data_limit_gb"]},
                               {"data_refueling_gb", l["data_refueling_gb"]}, {"cycle_end_date", "2025-02-28"}});
      });
  add(tool("enable_roaming", "Enables international roaming on a line.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to enable roaming for."}}, ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        if (pyops::truthy(l["roaming_enabled"])) return Json("Roaming was already enabled");
        l["roaming_enabled"] = true;
        return Json("Roaming enabled successfully");
      });
  add(tool("disable_roaming", "Disables international roaming on a line.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to disable roaming for."}}, ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        if (!pyops::truthy(l["roaming_enabled"])) return Json("Roaming was already disabled");
        l["roaming_enabled"] = false;
        return Json("Roaming disabled successfully");
      });
  {
    Tool t = tool("transfer_to_human_agents",
                  "Transfer the user to a human agent, with a summary of the user's issue.\n\nOnly transfer if\n -  the user explicitly "
                  "asks for a human agent\n -  given the policy and the available tools, you cannot solve the user's issue.",
                  {P{"summary", schema::string(), "A summary of the user's issue."}}, ToolType::Generic);
    add(std::move(t), [](const Kwargs&) -> Json { return Json("Transfer successful"); });
  }
  add(tool("refuel_data",
           "Refuels data for a specific line, adding to the customer's bill.\n\nChecks: Line status must be Active, Customer owns the "
           "line.\nLogic: Adds data to the line and charges customer based on the plan's refueling rate.",
           {customer_id, P{"line_id", schema::string(), "ID of the line to refuel data for."},
            P{"gb_amount", schema::number(), "Amount of data to add in gigabytes."}},
           ToolType::Write),
      [this](const Kwargs& a) -> Json {
        Json& l = target_line(a["customer_id"], a["line_id"]);
        const Json& gb = a["gb_amount"];
        if (!pyops::is_num(gb)) throw ToolError("'<=' not supported between instances of '" + py::type_name(gb) + "' and 'int'");
        if (!pyops::less(Json(0), gb)) throw ToolError("Refuel amount must be positive");
        Json& p = plan_by_id(l["plan_id"]);
        const Json charge = pyops::arith(gb, p["data_refueling_price_per_gb"], '*');
        l["data_refueling_gb"] = pyops::arith(l["data_refueling_gb"], gb, '+');
        apply_one_time_charge(a["customer_id"], charge,
                              "Data refueling: " + py_str(gb) + " GB at $" + py_str(p["data_refueling_price_per_gb"]) + "/GB");
        return plain_dict(Json{{"message", "Successfully added " + py_str(gb) + " GB of data for line " + py_str(a["line_id"]) + " for $" +
                                               fixed2(pyops::num(charge))},
                               {"new_data_refueling_gb", l["data_refueling_gb"]},
                               {"charge", charge}});
      });
}

// Methods called by initialization actions and environment assertions (not agent tools).
inline Json TelecomTools::call_env_function(const std::string& name, const Json& args) {
  auto arg = [&](const char* key) -> const Json& {
    auto it = args.find(key);
    if (it == args.end()) throw ToolError("TelecomTools." + name + "() missing 1 required positional argument: '" + key + "'");
    return *it;
  };
  if (name == "set_data_usage") {
    Json& l = target_line(arg("customer_id"), arg("line_id"));
    l["data_used_gb"] = arg("data_used_gb");
    return Json("Data usage set to " + py_str(arg("data_used_gb")) + " GB for line " + py_str(arg("line_id")));
  }
  if (name == "suspend_line_for_overdue_bill") {
    Json& l = line_by_id(arg("line_id"));
    if (l["status"] != "Active") throw ToolError("Line must be active to suspend for unpaid bill");
    Json& p = plan_by_id(l["plan_id"]);
    const Json amount = p["price_per_month"];
    if (!pyops::less(Json(0), amount)) throw ToolError("Amount must be positive for overdue bill");
    Json& c = customer_by_id(arg("customer_id"));
    for (const auto& id : c["bill_ids"])
      if (bill_by_id(id)["status"] == "Overdue") throw ToolError("Customer already has an overdue bill");
    Json bill = validate(*model::bill(), Json{{"bill_id", arg("new_bill_id")}, {"customer_id", arg("customer_id")},
                                              {"period_start", "2025-01-01"}, {"period_end", "2025-01-31"}, {"issue_date", "2025-01-01"},
                                              {"total_due", 0}, {"due_date", "2025-01-15"}, {"status", "Overdue"}});
    bill["line_items"].push_back(validate(*model::line_item(), Json{{"description", "Charge for line " + l["line_id"].get<std::string>()},
                                                                    {"amount", amount}, {"date", kToday}, {"item_type", "Charge"}}));
    bill["total_due"] = pyops::arith(bill["total_due"], amount, '+');
    db_["bills"].push_back(bill);
    c["bill_ids"].push_back(arg("new_bill_id"));
    l["status"] = "Suspended";
    l["suspension_start_date"] = kToday;
    if (pyops::truthy(arg("contract_ended"))) l["contract_end_date"] = "2025-01-31";
    return Json("Line " + py_str(arg("line_id")) + " suspended for unpaid bill " + py_str(arg("new_bill_id")) +
                ". Contract ended: " + py_str(arg("contract_ended")));
  }
  if (name == "get_available_plan_ids") {
    Json out = Json::array();
    for (const auto& p : db_["plans"]) out.push_back(p["plan_id"]);
    return out;
  }
  if (name == "assert_data_refueling_amount") {
    Json& l = target_line(arg("customer_id"), arg("line_id"));
    return Json(std::fabs(pyops::num(l["data_refueling_gb"]) - pyops::num(arg("expected_amount"))) < 1e-6);
  }
  if (name == "assert_line_status") {
    Json& l = target_line(arg("customer_id"), arg("line_id"));
    return Json(py::equal(l["status"], arg("expected_status")));
  }
  if (name == "assert_overdue_bill_exists") {
    Json& c = customer_by_id(arg("customer_id"));
    bool owned = false;
    for (const auto& b : c["bill_ids"]) owned = owned || py::equal(b, arg("overdue_bill_id"));
    if (!owned) throw ToolError("Overdue bill " + py_str(arg("overdue_bill_id")) + " not found");
    if (bill_by_id(arg("overdue_bill_id"))["status"] != "Overdue")
      throw ToolError("Overdue bill " + py_str(arg("overdue_bill_id")) + " is not overdue");
    return Json(true);
  }
  if (name == "assert_no_overdue_bill") {
    for (const auto& b : db_["bills"])
      if (py::equal(b["bill_id"], arg("overdue_bill_id"))) return Json(b["status"] == "Paid");
    return Json(true);
  }
  return ToolKit::call_env_function(name, args);
}

}  // namespace gemma4::eval::tau2::telecom

#include "tau2/telecom_user.h"
