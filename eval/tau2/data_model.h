// Typed records over JSON with pydantic's (v2, lax mode) validation rules.
//
// tau2-bench keeps each domain database as pydantic models. Three behaviours of pydantic decide
// what ends up in the DB (and so in the DB hash) and must be reproduced:
//   * coercion: an `int` field accepts 2.0 and "2" and stores 2; a `float` field stores 30 as 30.0;
//   * shape: model_dump() writes every declared field in declaration order, fills defaults
//     (None for optional fields) and drops unknown keys;
//   * errors: a missing field or a wrong type raises before any state changes.
// A ModelType here is the list of declared fields; validate() turns raw JSON into the dumped form.
#pragma once

#include "tau2/json.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

// Raised where pydantic raises ValidationError.
struct ValidationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FieldType;
using FieldTypePtr = std::shared_ptr<const FieldType>;

struct ModelField {
  std::string name;
  FieldTypePtr type;
  bool required = true;
  Json default_value = nullptr;  // used when !required
};

struct FieldType {
  enum class Kind { Str, Int, Float, Bool, Literal, List, Dict, Model, Union, Optional, Any, Date, DateTime };
  Kind kind = Kind::Any;
  std::vector<std::string> literals;    // Literal["a", "b"]
  FieldTypePtr item;                    // List[item], Dict[str, item], Optional[item]
  std::string model_name;               // Model
  std::vector<ModelField> fields;       // Model
  std::vector<FieldTypePtr> alternatives;  // Union
  bool forbid_extra = false;            // Model: BaseModelNoExtra (unknown keys are errors)
  std::vector<std::string> key_literals;  // Dict: allowed keys (enum-keyed dicts), empty = any str
};

namespace types {
inline FieldTypePtr make(FieldType::Kind k) { auto t = std::make_shared<FieldType>(); t->kind = k; return t; }
inline FieldTypePtr str() { static auto t = make(FieldType::Kind::Str); return t; }
inline FieldTypePtr integer() { static auto t = make(FieldType::Kind::Int); return t; }
inline FieldTypePtr number() { static auto t = make(FieldType::Kind::Float); return t; }
inline FieldTypePtr boolean() { static auto t = make(FieldType::Kind::Bool); return t; }
inline FieldTypePtr any() { static auto t = make(FieldType::Kind::Any); return t; }
// datetime.date / datetime.datetime, held as Python's str() of the value ("2025-02-25",
// "2025-01-20 14:30:00"): what json.dumps(default=str) writes and what the DB hash sees.
inline FieldTypePtr date() { static auto t = make(FieldType::Kind::Date); return t; }
inline FieldTypePtr datetime() { static auto t = make(FieldType::Kind::DateTime); return t; }
inline FieldTypePtr literal(std::vector<std::string> values) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::Literal; t->literals = std::move(values); return t;
}
inline FieldTypePtr list(FieldTypePtr item) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::List; t->item = std::move(item); return t;
}
inline FieldTypePtr dict(FieldTypePtr item) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::Dict; t->item = std::move(item); return t;
}
inline FieldTypePtr optional(FieldTypePtr item) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::Optional; t->item = std::move(item); return t;
}
inline FieldTypePtr one_of(std::vector<FieldTypePtr> alternatives) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::Union; t->alternatives = std::move(alternatives); return t;
}
inline FieldTypePtr model(std::string name, std::vector<ModelField> fields) {
  auto t = std::make_shared<FieldType>();
  t->kind = FieldType::Kind::Model; t->model_name = std::move(name); t->fields = std::move(fields); return t;
}
inline FieldTypePtr strict_model(std::string name, std::vector<ModelField> fields) {
  auto t = std::make_shared<FieldType>();
  t->kind = FieldType::Kind::Model; t->model_name = std::move(name); t->fields = std::move(fields); t->forbid_extra = true;
  return t;
}
inline FieldTypePtr dict_with_keys(std::vector<std::string> keys, FieldTypePtr item) {
  auto t = std::make_shared<FieldType>(); t->kind = FieldType::Kind::Dict; t->item = std::move(item);
  t->key_literals = std::move(keys); return t;
}
// Field helpers: required field, and optional field defaulting to None.
inline ModelField req(std::string name, FieldTypePtr type) { return {std::move(name), std::move(type), true, nullptr}; }
inline ModelField opt(std::string name, FieldTypePtr type) {
  return {std::move(name), optional(std::move(type)), false, nullptr};
}
// A field with a default (the default is stored as is: pydantic does not validate defaults).
inline ModelField dflt(std::string name, FieldTypePtr type, Json default_value) {
  return {std::move(name), std::move(type), false, std::move(default_value)};
}
}  // namespace types

namespace detail {

inline bool parse_int_string(const std::string& s, std::int64_t& out) {
  size_t b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
  if (b == std::string::npos) return false;
  std::string t = s.substr(b, e - b + 1);
  size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (i >= t.size()) return false;
  for (size_t k = i; k < t.size(); ++k)
    if (t[k] < '0' || t[k] > '9') return false;
  try { out = std::stoll(t); } catch (...) { return false; }
  return true;
}

inline bool parse_float_string(const std::string& s, double& out) {
  size_t b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
  if (b == std::string::npos) return false;
  std::string t = s.substr(b, e - b + 1);
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size();
}

inline bool digits(const std::string& s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}
// "YYYY-MM-DD" prefix check.
inline bool iso_date_prefix(const std::string& s) {
  return digits(s, 0, 4) && s.size() >= 10 && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2);
}

[[noreturn]] inline void fail(const std::string& loc, const std::string& msg) {
  throw ValidationError((loc.empty() ? std::string() : loc + "\n  ") + msg);
}

}  // namespace detail

// Validates `value` against `type` and returns what model_dump() would hold. `loc` names the
// position for error messages ("passengers.0.dob").
inline Json validate(const FieldType& type, const Json& value, const std::string& loc = "") {
  using K = FieldType::Kind;
  switch (type.kind) {
    case K::Any: return value;
    case K::Str:
      if (!value.is_string()) detail::fail(loc, "Input should be a valid string");
      return value;
    case K::Int: {
      if (value.is_boolean()) return Json(value.get<bool>() ? 1 : 0);
      if (value.is_number_integer()) return value;
      if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) return Json(static_cast<std::int64_t>(d));
        detail::fail(loc, "Input should be a valid integer, got a number with a fractional part");
      }
      if (value.is_string()) {
        std::int64_t v;
        if (detail::parse_int_string(value.get<std::string>(), v)) return Json(v);
        detail::fail(loc, "Input should be a valid integer, unable to parse string as an integer");
      }
      detail::fail(loc, "Input should be a valid integer");
    }
    case K::Float: {
      if (value.is_boolean()) return Json(value.get<bool>() ? 1.0 : 0.0);
      if (value.is_number()) return Json(value.get<double>());
      if (value.is_string()) {
        double v;
        if (detail::parse_float_string(value.get<std::string>(), v)) return Json(v);
        detail::fail(loc, "Input should be a valid number, unable to parse string as a number");
      }
      detail::fail(loc, "Input should be a valid number");
    }
    case K::Bool: {
      if (value.is_boolean()) return value;
      if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v == 0 || v == 1) return Json(v == 1);
      }
      if (value.is_string()) {
        std::string s = value.get<std::string>();
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* t : {"1", "on", "t", "true", "y", "yes"}) if (s == t) return Json(true);
        for (const char* f : {"0", "off", "f", "false", "n", "no"}) if (s == f) return Json(false);
      }
      detail::fail(loc, "Input should be a valid boolean");
    }
    case K::Literal: {
      if (value.is_string())
        for (const auto& lit : type.literals)
          if (value.get<std::string>() == lit) return value;
      std::string expected;
      for (size_t i = 0; i < type.literals.size(); ++i) {
        if (i) expected += (i + 1 == type.literals.size()) ? " or " : ", ";
        expected += "'" + type.literals[i] + "'";
      }
      detail::fail(loc, "Input should be " + expected);
    }
    case K::Date: {
      // pydantic: "YYYY-MM-DD", or a datetime string whose time is exactly midnight.
      if (value.is_string()) {
        const std::string v = value.get<std::string>();
        if (detail::iso_date_prefix(v) && v.size() == 10) return value;
        if (detail::iso_date_prefix(v) && (v.substr(10) == "T00:00:00" || v.substr(10) == " 00:00:00")) return Json(v.substr(0, 10));
      }
      detail::fail(loc, "Input should be a valid date in the format YYYY-MM-DD");
    }
    case K::DateTime: {
      // Normalised to str(datetime): "YYYY-MM-DD HH:MM:SS[.ffffff]"; a bare date means midnight.
      if (value.is_string()) {
        const std::string v = value.get<std::string>();
        if (detail::iso_date_prefix(v) && v.size() == 10) return Json(v + " 00:00:00");
        if (detail::iso_date_prefix(v) && v.size() >= 16 && (v[10] == 'T' || v[10] == ' ') && detail::digits(v, 11, 2) &&
            v[13] == ':' && detail::digits(v, 14, 2)) {
          std::string out = v.substr(0, 10) + " " + v.substr(11, 5);
          size_t pos = 16;
          if (v.size() >= 19 && v[16] == ':' && detail::digits(v, 17, 2)) {
            out += v.substr(16, 3);
            pos = 19;
          } else {
            out += ":00";
          }
          if (pos < v.size() && v[pos] == '.') {
            size_t end = pos + 1;
            while (end < v.size() && v[end] >= '0' && v[end] <= '9') ++end;
            std::string frac = v.substr(pos + 1, end - pos - 1);
            frac = (frac + "000000").substr(0, 6);
            if (frac != "000000") out += "." + frac;
            pos = end;
          }
          if (pos == v.size()) return Json(out);
        }
      }
      detail::fail(loc, "Input should be a valid datetime");
    }
    case K::Optional:
      if (value.is_null()) return value;
      return validate(*type.item, value, loc);
    case K::List: {
      if (!value.is_array()) detail::fail(loc, "Input should be a valid list");
      Json out = Json::array();
      for (size_t i = 0; i < value.size(); ++i)
        out.push_back(validate(*type.item, value[i], loc.empty() ? std::to_string(i) : loc + "." + std::to_string(i)));
      return out;
    }
    case K::Dict: {
      if (!value.is_object()) detail::fail(loc, "Input should be a valid dictionary");
      Json out = Json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!type.key_literals.empty() &&
            std::find(type.key_literals.begin(), type.key_literals.end(), it.key()) == type.key_literals.end())
          detail::fail(loc.empty() ? it.key() : loc + "." + it.key() + ".[key]", "Input should be one of the enum values");
        out[it.key()] = validate(*type.item, it.value(), loc.empty() ? it.key() : loc + "." + it.key());
      }
      return out;
    }
    case K::Model: {
      if (!value.is_object())
        detail::fail(loc, "Input should be a valid dictionary or instance of " + type.model_name);
      if (type.forbid_extra)
        for (auto it = value.begin(); it != value.end(); ++it) {
          bool known = false;
          for (const auto& f : type.fields) known = known || f.name == it.key();
          if (!known)
            throw ValidationError("1 validation error for " + type.model_name + "\n" + (loc.empty() ? it.key() : loc + "." + it.key()) +
                                  "\n  Extra inputs are not permitted");
        }
      Json out = Json::object();
      for (const auto& field : type.fields) {
        const std::string floc = loc.empty() ? field.name : loc + "." + field.name;
        auto it = value.find(field.name);
        if (it == value.end()) {
          if (field.required) throw ValidationError("1 validation error for " + type.model_name + "\n" + floc + "\n  Field required");
          out[field.name] = field.default_value;
        } else {
          try {
            out[field.name] = validate(*field.type, *it, floc);
          } catch (const ValidationError& e) {
            const std::string what = e.what();
            if (what.rfind("1 validation error for ", 0) == 0) throw;
            throw ValidationError("1 validation error for " + type.model_name + "\n" + what);
          }
        }
      }
      return out;
    }
    case K::Union: {
      std::string first_error;
      for (const auto& alt : type.alternatives) {
        try {
          return validate(*alt, value, loc);
        } catch (const ValidationError& e) {
          if (first_error.empty()) first_error = e.what();
        }
      }
      throw ValidationError(first_error.empty() ? "Input does not match any union member" : first_error);
    }
  }
  return value;
}

// Validates a whole database: the top-level model forbids unknown keys (BaseModelNoExtra).
inline Json validate_db(const FieldType& db_type, const Json& value, const std::string& source) {
  if (!value.is_object()) throw ValidationError(source + ": the database must be a JSON object");
  for (auto it = value.begin(); it != value.end(); ++it) {
    bool known = false;
    for (const auto& f : db_type.fields) known = known || f.name == it.key();
    if (!known) throw ValidationError(source + ": unknown top-level field '" + it.key() + "' (extra fields are forbidden)");
  }
  try {
    return validate(db_type, value, "");
  } catch (const ValidationError& e) {
    throw ValidationError(source + ": " + e.what());
  }
}

// addict.Dict.update semantics used by tau2's update_db: nested dicts merge key by key, anything
// else (lists included) is replaced.
inline void deep_update(Json& target, const Json& update) {
  for (auto it = update.begin(); it != update.end(); ++it) {
    auto t = target.find(it.key());
    if (t != target.end() && t->is_object() && it->is_object()) deep_update(*t, *it);
    else target[it.key()] = *it;
  }
}

}  // namespace gemma4::eval::tau2
