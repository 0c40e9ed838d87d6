// The retail domain: products with variants, users, orders (tau2 src/tau2/domains/retail).
//
// Official quirks kept on purpose (the DB reward depends on them):
//   * modify_pending_order_items prices *every* modified item with the variant of the *last* pair;
//   * its price difference is not rounded (exchange's is), and it can only run on status
//     "pending" while address/payment changes accept any status containing "pending";
//   * cancel_pending_order refunds every payment_history entry, refunds included;
//   * gift-card balances are rounded to cents after each change.
#pragma once

#include "tau2/calculator.h"
#include "tau2/environment.h"

#include <algorithm>

namespace gemma4::eval::tau2::retail {

namespace model {
using namespace types;
inline FieldTypePtr variant() {
  return types::model("Variant", {req("item_id", str()), req("options", dict(str())), req("available", boolean()), req("price", number())});
}
inline FieldTypePtr product() {
  return types::model("Product", {req("name", str()), req("product_id", str()), req("variants", dict(variant()))});
}
inline FieldTypePtr address() {
  return types::model("UserAddress", {req("address1", str()), req("address2", str()), req("city", str()), req("country", str()),
                                      req("state", str()), req("zip", str())});
}
inline FieldTypePtr payment_method() {
  auto credit_card = types::model("CreditCard", {req("source", literal({"credit_card"})), req("id", str()), req("brand", str()),
                                                 req("last_four", str())});
  auto gift_card = types::model("GiftCard", {req("source", literal({"gift_card"})), req("id", str()), req("balance", number())});
  auto paypal = types::model("Paypal", {req("source", literal({"paypal"})), req("id", str())});
  return one_of({credit_card, gift_card, paypal});
}
inline FieldTypePtr user() {
  auto name = types::model("UserName", {req("first_name", str()), req("last_name", str())});
  return types::model("User", {req("user_id", str()), req("name", name), req("address", address()), req("email", str()),
                               req("payment_methods", dict(payment_method())), req("orders", list(str()))});
}
inline FieldTypePtr order_payment() {
  return types::model("OrderPayment", {req("transaction_type", literal({"payment", "refund"})), req("amount", number()),
                                       req("payment_method_id", str())});
}
inline FieldTypePtr order() {
  auto item = types::model("OrderItem", {req("name", str()), req("product_id", str()), req("item_id", str()), req("price", number()),
                                         req("options", dict(str()))});
  auto fulfillment = types::model("OrderFullfilment", {req("tracking_id", list(str())), req("item_ids", list(str()))});
  return types::model(
      "Order", {req("order_id", str()), req("user_id", str()), req("address", address()), req("items", list(item)),
                req("status", literal({"processed", "pending", "pending (item modified)", "delivered", "cancelled",
                                       "exchange requested", "return requested"})),
                req("fulfillments", list(fulfillment)), req("payment_history", list(order_payment())),
                opt("cancel_reason", literal({"no longer needed", "ordered by mistake"})), opt("exchange_items", list(str())),
                opt("exchange_new_items", list(str())), opt("exchange_payment_method_id", str()),
                opt("exchange_price_difference", number()), opt("return_items", list(str())), opt("return_payment_method_id", str())});
}
inline FieldTypePtr db() {
  return types::model("RetailDB", {req("products", dict(product())), req("users", dict(user())), req("orders", dict(order()))});
}
}  // namespace model

class RetailTools : public ToolKit {
 public:
  explicit RetailTools(const Json& raw_db, const std::string& source = "retail db")
      : ToolKit("RetailTools", model::db(), validate_db(*model::db(), raw_db, source)) {
    register_tools();
  }

 private:
  using P = ToolParam;

  // `key in dict` for a JSON argument (a non-string key is simply absent).
  static bool has(const Json& dict, const Json& key) { return key.is_string() && dict.contains(key.get<std::string>()); }

  Json& order(const Json& order_id) {
    if (!has(db_["orders"], order_id)) throw ToolError("Order not found");
    return db_["orders"][order_id.get<std::string>()];
  }
  Json& user(const Json& user_id) {
    if (!has(db_["users"], user_id)) throw ToolError("User not found");
    return db_["users"][user_id.get<std::string>()];
  }
  Json& product(const Json& product_id) {
    if (!has(db_["products"], product_id)) throw ToolError("Product not found");
    return db_["products"][product_id.get<std::string>()];
  }
  Json& item(const Json& item_id) {
    for (auto it = db_["products"].begin(); it != db_["products"].end(); ++it)
      if (has(it.value()["variants"], item_id)) return it.value()["variants"][item_id.get<std::string>()];
    throw ToolError("Item not found");
  }
  Json& variant(const Json& product_id, const Json& variant_id) {
    Json& p = product(product_id);
    if (!has(p["variants"], variant_id)) throw ToolError("Variant not found");
    return p["variants"][variant_id.get<std::string>()];
  }
  Json& payment_method(const Json& user_id, const Json& payment_method_id) {
    Json& u = user(user_id);
    if (!has(u["payment_methods"], payment_method_id)) throw ToolError("Payment method not found");
    return u["payment_methods"][payment_method_id.get<std::string>()];
  }
  static bool is_gift_card(const Json& method) { return method["source"] == "gift_card"; }

  // round(x, 2): ints stay ints (Python's round(int, 2) returns the int).
  static Json round2(const Json& v) { return v.is_number_float() ? Json(py::round2(v.get<double>())) : v; }

  static const Json& string_list(const Json& v) {
    if (!v.is_array()) throw ToolError("'" + py::type_name(v) + "' object is not a list of item ids");
    return v;
  }
  static std::ptrdiff_t count(const Json& list, const Json& value) {
    return std::count_if(list.begin(), list.end(), [&](const Json& x) { return py::equal(x, value); });
  }
  static Json sorted(const Json& list) {
    std::vector<std::string> v;
    for (const auto& x : list) {
      if (!x.is_string()) throw ToolError("'<' not supported between instances of '" + py::type_name(x) + "' and 'str'");
      v.push_back(x.get<std::string>());
    }
    std::sort(v.begin(), v.end());
    Json out = Json::array();
    for (auto& s : v) out.push_back(s);
    return out;
  }
  // "Item X not found" / item lookup by id in order items: next(...) or None.
  static Json* order_item(Json& ord, const Json& item_id) {
    for (auto& it : ord["items"])
      if (py::equal(it["item_id"], item_id)) return &it;
    return nullptr;
  }
  static std::string py_str(const Json& v) { return v.is_string() ? v.get<std::string>() : py::dumps(v); }

  void register_tools();
};

inline void RetailTools::register_tools() {
  const char* kOrderIdDoc = "The order id, such as '#W0000000'. Be careful there is a '#' symbol at the beginning of the order id.";
  const char* kPaymentMethodDoc =
      "The payment method id to pay or receive refund for the item price difference, such as 'gift_card_0000000' or "
      "'credit_card_0000000'. These can be looked up from the user or order details.";

  add(calculate_tool(), [](const Kwargs& a) { return run_calculate(a); });

  // ---- cancel_pending_order ----
  {
    Tool t;
    t.name = "cancel_pending_order";
    t.description =
        "Cancel a pending order. If the order is already processed or delivered,\n\nit cannot be cancelled. The agent needs to "
        "explain the cancellation detail\nand ask for explicit user confirmation (yes/no) to proceed. If the user confirms,\nthe "
        "order status will be changed to 'cancelled' and the payment will be refunded.\nThe refund will be added to the user's "
        "gift card balance immediately if the payment\nwas made using a gift card, otherwise the refund would take 5-7 business "
        "days to process.\nThe function returns the order details after the cancellation.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc},
                P{"reason", schema::string(),
                  "The reason for cancellation, which should be either 'no longer needed' or 'ordered by mistake'."}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"] != "pending") throw ToolError("Non-pending order cannot be cancelled");
      if (a["reason"] != "no longer needed" && a["reason"] != "ordered by mistake") throw ToolError("Invalid reason");
      Json refunds = Json::array();
      for (const auto& payment : ord["payment_history"]) {
        refunds.push_back(validate(*model::order_payment(), Json{{"transaction_type", "refund"}, {"amount", payment["amount"]},
                                                                 {"payment_method_id", payment["payment_method_id"]}}));
        Json& u = user(ord["user_id"]);
        Json& method = payment_method(u["user_id"], payment["payment_method_id"]);
        if (is_gift_card(method)) method["balance"] = round2(pyops::arith(method["balance"], payment["amount"], '+'));
      }
      ord["status"] = "cancelled";
      ord["cancel_reason"] = a["reason"];
      for (auto& r : refunds) ord["payment_history"].push_back(r);
      return ord;
    });
  }

  // ---- exchange_delivered_order_items ----
  {
    Tool t;
    t.name = "exchange_delivered_order_items";
    t.description =
        "Exchange items in a delivered order to new items of the same product type.\n\nFor a delivered order, return or exchange "
        "can be only done once by the agent.\nThe agent needs to explain the exchange detail and ask for explicit user "
        "confirmation (yes/no) to proceed.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc},
                P{"item_ids", schema::array_of(schema::string()),
                  "The item ids to be exchanged, each such as '1008292230'. There could be duplicate items in the list."},
                P{"new_item_ids", schema::array_of(schema::string()),
                  "The item ids to be exchanged for, each such as '1008292230'.\nThere could be duplicate items in the list. Each new "
                  "item id should match the item id\nin the same position and be of the same product."},
                P{"payment_method_id", schema::string(),
                  "The payment method id to pay or receive refund for the item price difference,\nsuch as 'gift_card_0000000' or "
                  "'credit_card_0000000'. These can be looked up\nfrom the user or order details."}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"] != "delivered") throw ToolError("Non-delivered order cannot be exchanged");
      const Json& item_ids = string_list(a["item_ids"]);
      const Json& new_item_ids = string_list(a["new_item_ids"]);
      Json all_item_ids = Json::array();
      for (const auto& it : ord["items"]) all_item_ids.push_back(it["item_id"]);
      for (const auto& id : item_ids)
        if (count(item_ids, id) > count(all_item_ids, id)) throw ToolError("Number of " + py_str(id) + " not found.");
      if (item_ids.size() != new_item_ids.size()) throw ToolError("The number of items to be exchanged should match.");
      Json diff_price = 0;
      for (size_t i = 0; i < item_ids.size(); ++i) {
        Json* it = order_item(ord, item_ids[i]);
        if (it == nullptr) throw ToolError("Item " + py_str(item_ids[i]) + " not found");
        Json& v = variant((*it)["product_id"], new_item_ids[i]);
        if (!v["available"].get<bool>()) throw ToolError("New item " + py_str(new_item_ids[i]) + " not found or available");
        diff_price = pyops::arith(diff_price, pyops::arith(v["price"], (*it)["price"], '-'), '+');
      }
      diff_price = round2(diff_price);
      Json& method = payment_method(ord["user_id"], a["payment_method_id"]);
      if (is_gift_card(method) && pyops::less(method["balance"], diff_price))
        throw ToolError("Insufficient gift card balance to pay for the price difference");
      ord["status"] = "exchange requested";
      ord["exchange_items"] = sorted(item_ids);
      ord["exchange_new_items"] = sorted(new_item_ids);
      ord["exchange_payment_method_id"] = a["payment_method_id"];
      ord["exchange_price_difference"] = diff_price;
      return ord;
    });
  }

  // ---- find_user_id_by_name_zip / find_user_id_by_email ----
  {
    Tool t;
    t.name = "find_user_id_by_name_zip";
    t.description =
        "Find user id by first name, last name, and zip code. If the user is not found, the function\n\nwill return an error "
        "message. By default, find user id by email, and only call this function\nif the user is not found by email or cannot "
        "remember email.";
    t.params = {P{"first_name", schema::string(), "The first name of the customer, such as 'John'."},
                P{"last_name", schema::string(), "The last name of the customer, such as 'Doe'."},
                P{"zip", schema::string(), "The zip code of the customer, such as '12345'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json {
      for (auto it = db_["users"].begin(); it != db_["users"].end(); ++it) {
        const Json& u = it.value();
        if (pyops::lower(u["name"]["first_name"].get<std::string>()) != pyops::lower(pyops::str(a["first_name"], "lower"))) continue;
        if (pyops::lower(u["name"]["last_name"].get<std::string>()) != pyops::lower(pyops::str(a["last_name"], "lower"))) continue;
        if (!py::equal(u["address"]["zip"], a["zip"])) continue;
        return Json(it.key());
      }
      throw ToolError("User not found");
    });
  }
  {
    Tool t;
    t.name = "find_user_id_by_email";
    t.description = "Find user id by email. If the user is not found, the function will return an error message.";
    t.params = {P{"email", schema::string(), "The email of the user, such as 'something@example.com'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json {
      for (auto it = db_["users"].begin(); it != db_["users"].end(); ++it)
        if (pyops::lower(it.value()["email"].get<std::string>()) == pyops::lower(pyops::str(a["email"], "lower"))) return Json(it.key());
      throw ToolError("User not found");
    });
  }

  // ---- read tools ----
  {
    Tool t;
    t.name = "get_order_details";
    t.description = "Get the status and details of an order.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return order(a["order_id"]); });
  }
  {
    Tool t;
    t.name = "get_product_details";
    t.description = "Get the inventory details of a product.";
    t.params = {P{"product_id", schema::string(),
                  "The product id, such as '6086499569'. Be careful the product id is different from the item id."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return product(a["product_id"]); });
  }
  {
    Tool t;
    t.name = "get_item_details";
    t.description = "Get the inventory details of an item.";
    t.params = {P{"item_id", schema::string(),
                  "The item id, such as '6086499569'. Be careful the item id is different from the product id."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return item(a["item_id"]); });
  }
  {
    Tool t;
    t.name = "get_user_details";
    t.description = "Get the details of a user, including their orders.";
    t.params = {P{"user_id", schema::string(), "The user id, such as 'sara_doe_496'."}};
    add(std::move(t), [this](const Kwargs& a) -> Json { return user(a["user_id"]); });
  }
  {
    Tool t;
    t.name = "list_all_product_types";
    t.description =
        "List the name and product id of all product types.\n\nEach product type has a variety of different items with unique "
        "item ids and options.\nThere are only 50 product types in the store.";
    add(std::move(t), [this](const Kwargs&) -> Json {
      Json names = Json::object();  // name -> product_id, later duplicates overwrite
      for (auto it = db_["products"].begin(); it != db_["products"].end(); ++it)
        names[it.value()["name"].get<std::string>()] = it.value()["product_id"];
      return Json(py::dumps(names, /*sort_keys=*/true));  // the tool returns this JSON text as a str
    });
  }

  // ---- modify_pending_order_address ----
  const std::vector<P> address_params = {
      P{"address1", schema::string(), "The first line of the address, such as '123 Main St'."},
      P{"address2", schema::string(), "The second line of the address, such as 'Apt 1' or ''."},
      P{"city", schema::string(), "The city, such as 'San Francisco'."},
      P{"state", schema::string(), "The state, such as 'CA'."},
      P{"country", schema::string(), "The country, such as 'USA'."},
      P{"zip", schema::string(), "The zip code, such as '12345'."}};
  auto address_from = [](const Kwargs& a) {
    return validate(*model::address(), Json{{"address1", a["address1"]}, {"address2", a["address2"]}, {"city", a["city"]},
                                            {"state", a["state"]}, {"country", a["country"]}, {"zip", a["zip"]}});
  };
  {
    Tool t;
    t.name = "modify_pending_order_address";
    t.description =
        "Modify the shipping address of a pending order. The agent needs to explain the modification detail and ask for explicit "
        "user confirmation (yes/no) to proceed.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc}};
    t.params.insert(t.params.end(), address_params.begin(), address_params.end());
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this, address_from](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"].get<std::string>().find("pending") == std::string::npos) throw ToolError("Non-pending order cannot be modified");
      ord["address"] = address_from(a);
      return ord;
    });
  }

  // ---- modify_pending_order_items ----
  {
    Tool t;
    t.name = "modify_pending_order_items";
    t.description =
        "Modify items in a pending order to new items of the same product type. For a pending order, this function can only be "
        "called once. The agent needs to explain the exchange detail and ask for explicit user confirmation (yes/no) to proceed.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc},
                P{"item_ids", schema::array_of(schema::string()),
                  "The item ids to be modified, each such as '1008292230'. There could be duplicate items in the list."},
                P{"new_item_ids", schema::array_of(schema::string()),
                  "The item ids to be modified for, each such as '1008292230'. There could be duplicate items in the list. Each new "
                  "item id should match the item id in the same position and be of the same product."},
                P{"payment_method_id", schema::string(), kPaymentMethodDoc}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"] != "pending") throw ToolError("Non-pending order cannot be modified");
      const Json& item_ids = string_list(a["item_ids"]);
      const Json& new_item_ids = string_list(a["new_item_ids"]);
      Json all_item_ids = Json::array();
      for (const auto& it : ord["items"]) all_item_ids.push_back(it["item_id"]);
      for (const auto& id : item_ids)
        if (count(item_ids, id) > count(all_item_ids, id)) throw ToolError(py_str(id) + " not found");
      if (item_ids.size() != new_item_ids.size()) throw ToolError("The number of items to be exchanged should match");
      Json diff_price = 0;
      Json last_variant;  // the loop variable `variant` outlives the loop in Python
      for (size_t i = 0; i < item_ids.size(); ++i) {
        if (py::equal(item_ids[i], new_item_ids[i])) throw ToolError("The new item id should be different from the old item id");
        Json* it = order_item(ord, item_ids[i]);
        if (it == nullptr) throw ToolError("Item " + py_str(item_ids[i]) + " not found");
        Json& v = variant((*it)["product_id"], new_item_ids[i]);
        if (!v["available"].get<bool>()) throw ToolError("New item " + py_str(new_item_ids[i]) + " not found or available");
        diff_price = pyops::arith(diff_price, pyops::arith(v["price"], (*it)["price"], '-'), '+');
        last_variant = v;
      }
      Json& method = payment_method(ord["user_id"], a["payment_method_id"]);
      if (is_gift_card(method) && pyops::less(method["balance"], diff_price))
        throw ToolError("Insufficient gift card balance to pay for the new item");
      const bool is_payment = pyops::less(Json(0), diff_price);
      const Json amount = pyops::less(diff_price, Json(0)) ? pyops::arith(Json(0), diff_price, '-') : diff_price;  // abs()
      ord["payment_history"].push_back(validate(*model::order_payment(), Json{{"transaction_type", is_payment ? "payment" : "refund"},
                                                                              {"amount", amount},
                                                                              {"payment_method_id", a["payment_method_id"]}}));
      if (is_gift_card(method)) method["balance"] = round2(pyops::arith(method["balance"], diff_price, '-'));
      for (size_t i = 0; i < item_ids.size(); ++i) {
        Json* it = order_item(ord, item_ids[i]);
        if (it == nullptr) throw ToolError("Item " + py_str(item_ids[i]) + " not found");
        (*it)["item_id"] = new_item_ids[i];
        (*it)["price"] = last_variant["price"];
        (*it)["options"] = last_variant["options"];
      }
      ord["status"] = "pending (item modified)";
      return ord;
    });
  }

  // ---- modify_pending_order_payment ----
  {
    Tool t;
    t.name = "modify_pending_order_payment";
    t.description =
        "Modify the payment method of a pending order. The agent needs to explain the modification detail and ask for explicit "
        "user confirmation (yes/no) to proceed.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc}, P{"payment_method_id", schema::string(), kPaymentMethodDoc}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"].get<std::string>().find("pending") == std::string::npos) throw ToolError("Non-pending order cannot be modified");
      Json& method = payment_method(ord["user_id"], a["payment_method_id"]);
      auto& history = ord["payment_history"];
      if (history.size() != 1 || history[0]["transaction_type"] != "payment")
        throw ToolError("There should be exactly one payment for a pending order");
      if (py::equal(history[0]["payment_method_id"], a["payment_method_id"]))
        throw ToolError("The new payment method should be different from the current one");
      const Json amount = history[0]["amount"];
      if (is_gift_card(method) && pyops::less(method["balance"], amount))
        throw ToolError("Insufficient gift card balance to pay for the order");
      const Json old_method_id = history[0]["payment_method_id"];
      history.push_back(validate(*model::order_payment(),
                                 Json{{"transaction_type", "payment"}, {"amount", amount}, {"payment_method_id", a["payment_method_id"]}}));
      history.push_back(validate(*model::order_payment(),
                                 Json{{"transaction_type", "refund"}, {"amount", amount}, {"payment_method_id", old_method_id}}));
      if (is_gift_card(method)) method["balance"] = round2(pyops::arith(method["balance"], amount, '-'));
      Json& old_method = payment_method(ord["user_id"], old_method_id);
      if (is_gift_card(old_method)) old_method["balance"] = round2(pyops::arith(old_method["balance"], amount, '+'));
      return ord;
    });
  }

  // ---- modify_user_address ----
  {
    Tool t;
    t.name = "modify_user_address";
    t.description =
        "Modify the default address of a user. The agent needs to explain the modification detail and ask for explicit user "
        "confirmation (yes/no) to proceed.";
    t.params = {P{"user_id", schema::string(), "The user id, such as 'sara_doe_496'."}};
    t.params.insert(t.params.end(), address_params.begin(), address_params.end());
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this, address_from](const Kwargs& a) -> Json {
      Json& u = user(a["user_id"]);
      u["address"] = address_from(a);
      return u;
    });
  }

  // ---- return_delivered_order_items ----
  {
    Tool t;
    t.name = "return_delivered_order_items";
    t.description =
        "Return some items of a delivered order.\n\nThe order status will be changed to 'return requested'.\nThe agent needs to "
        "explain the return detail and ask for explicit user confirmation (yes/no) to proceed.\nThe user will receive follow-up "
        "email for how and where to return the item.";
    t.params = {P{"order_id", schema::string(), kOrderIdDoc},
                P{"item_ids", schema::array_of(schema::string()),
                  "The item ids to be returned, each such as '1008292230'. There could be duplicate items in the list."},
                P{"payment_method_id", schema::string(),
                  "The payment method id to pay or receive refund for the item price difference, such as 'gift_card_0000000' or "
                  "'credit_card_0000000'.\nThese can be looked up from the user or order details."}};
    t.type = ToolType::Write;
    t.mutates_state = true;
    add(std::move(t), [this](const Kwargs& a) -> Json {
      Json& ord = order(a["order_id"]);
      if (ord["status"] != "delivered") throw ToolError("Non-delivered order cannot be returned");
      Json& u = user(ord["user_id"]);
      Json& method = payment_method(u["user_id"], a["payment_method_id"]);
      if (!is_gift_card(method)) {
        if (ord["payment_history"].empty()) throw ToolError("list index out of range");
        if (!py::equal(a["payment_method_id"], ord["payment_history"][0]["payment_method_id"]))
          throw ToolError("Payment method should be the original payment method");
      }
      const Json& item_ids = string_list(a["item_ids"]);
      Json all_item_ids = Json::array();
      for (const auto& it : ord["items"]) all_item_ids.push_back(it["item_id"]);
      for (const auto& id : item_ids)
        if (count(item_ids, id) > count(all_item_ids, id)) throw ToolError("Some item not found");
      ord["status"] = "return requested";
      ord["return_items"] = sorted(item_ids);
      ord["return_payment_method_id"] = a["payment_method_id"];
      return ord;
    });
  }

  add(transfer_to_human_agents_tool(), [](const Kwargs&) -> Json { return Json("Transfer successful"); });
}

inline std::unique_ptr<Environment> make_environment(const Json& db, const std::string& policy) {
  return std::make_unique<Environment>("retail", policy, std::make_unique<RetailTools>(db));
}
inline std::unique_ptr<Environment> load_environment(const std::string& domain_dir) {
  return make_environment(load_json_file(domain_dir + "/db.json"), load_text_file(domain_dir + "/policy.md"));
}

}  // namespace gemma4::eval::tau2::retail
