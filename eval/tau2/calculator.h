// The `calculate` tool shared by the airline and retail domains.
//
// Official behaviour: reject any character outside "0123456789+-*/(). ", evaluate the rest as a
// Python expression, return str(round(float(result), 2)). The allowed characters give this grammar
// (Python's, restricted): + - * / // ** with the usual precedence, unary signs, parentheses,
// int and float literals ("1.", ".5"). Ints are exact; `/` is true division; ** binds tighter than
// a unary minus on its left (-2**2 == -4) and is right-associative. Python ints are unbounded;
// here they are 64-bit and an overflow is reported as an error (never met by sensible prices).
#pragma once

#include "tau2/environment.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace gemma4::eval::tau2 {

class PythonArithmetic {
 public:
  // Returns str(round(float(eval(expression)), 2)).
  static std::string calculate(const std::string& expression) {
    for (char c : expression)
      if (std::string_view("0123456789+-*/(). ").find(c) == std::string_view::npos)
        throw ToolError("Invalid characters in expression");
    PythonArithmetic p(expression);
    p.skip_space();
    if (p.at_end()) throw ToolError("invalid syntax (<string>, line 0)");
    Value v = p.expr();
    p.skip_space();
    if (!p.at_end()) throw ToolError("invalid syntax (<string>, line 1)");
    if (v.is_tuple) throw ToolError("float() argument must be a string or a real number, not 'tuple'");
    const double d = v.is_int ? to_float(v.i) : v.f;
    return py::float_repr(py::round2(d));
  }

 private:
  struct Value {
    bool is_int = true;
    std::int64_t i = 0;
    double f = 0;
    bool is_tuple = false;  // "()"
  };
  explicit PythonArithmetic(const std::string& s) : s_(s) {}

  static double to_float(std::int64_t v) { return static_cast<double>(v); }
  static double as_f(const Value& v) { return v.is_int ? to_float(v.i) : v.f; }
  static Value make_int(std::int64_t i) { Value v; v.i = i; return v; }
  [[noreturn]] static void too_large() { throw ToolError("integer result too large for this calculator"); }
  static Value make_float(double f) { Value v; v.is_int = false; v.f = f; return v; }
  static void no_tuple(const Value& a, const Value& b, const char* op) {
    if (a.is_tuple || b.is_tuple)
      throw ToolError(std::string("unsupported operand type(s) for ") + op + ": '" + (a.is_tuple ? "tuple" : a.is_int ? "int" : "float") +
                      "' and '" + (b.is_tuple ? "tuple" : b.is_int ? "int" : "float") + "'");
  }

  bool at_end() const { return pos_ >= s_.size(); }
  void skip_space() { while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_; }
  bool match(const char* tok) {
    skip_space();
    const size_t n = std::strlen(tok);
    if (s_.compare(pos_, n, tok) == 0) {
      // "*" must not match the start of "**", "/" not the start of "//".
      if (n == 1 && (tok[0] == '*' || tok[0] == '/') && pos_ + 1 < s_.size() && s_[pos_ + 1] == tok[0]) return false;
      pos_ += n;
      return true;
    }
    return false;
  }

  Value expr() {
    Value v = term();
    for (;;) {
      if (match("+")) v = add(v, term(), '+');
      else if (match("-")) v = add(v, term(), '-');
      else return v;
    }
  }
  Value term() {
    Value v = factor();
    for (;;) {
      if (match("//")) v = floordiv(v, factor());
      else if (match("*")) v = mul(v, factor());
      else if (match("/")) v = truediv(v, factor());
      else return v;
    }
  }
  Value factor() {
    if (match("+")) { Value v = factor(); no_tuple(v, v, "unary +"); return v; }
    if (match("-")) {
      Value v = factor();
      if (v.is_tuple) throw ToolError("bad operand type for unary -: 'tuple'");
      if (v.is_int && v.i == INT64_MIN) too_large();
      return v.is_int ? make_int(-v.i) : make_float(-v.f);
    }
    return power();
  }
  Value power() {
    Value base = atom();
    if (match("**")) return pow(base, factor());
    return base;
  }
  Value atom() {
    skip_space();
    if (at_end()) throw ToolError("invalid syntax (<string>, line 1)");
    if (s_[pos_] == '(') {
      ++pos_;
      skip_space();
      if (!at_end() && s_[pos_] == ')') { ++pos_; Value t; t.is_tuple = true; return t; }
      Value v = expr();
      skip_space();
      if (at_end() || s_[pos_] != ')') throw ToolError("'(' was never closed (<string>, line 1)");
      ++pos_;
      return v;
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) ++pos_;
    const std::string tok = s_.substr(start, pos_ - start);
    if (tok.empty() || tok == "." ) throw ToolError("invalid syntax (<string>, line 1)");
    const size_t dots = static_cast<size_t>(std::count(tok.begin(), tok.end(), '.'));
    if (dots > 1) throw ToolError("invalid syntax (<string>, line 1)");
    if (dots == 1) return make_float(std::strtod(tok.c_str(), nullptr));
    if (tok.size() > 1 && tok[0] == '0' && tok.find_first_not_of('0') != std::string::npos)
      throw ToolError("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers (<string>, line 1)");
    std::int64_t v = 0;
    for (char c : tok)
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) too_large();
    return make_int(v);
  }

  static Value add(const Value& a, const Value& b, char op) {
    no_tuple(a, b, op == '+' ? "+" : "-");
    if (a.is_int && b.is_int) {
      std::int64_t r;
      if (op == '+' ? __builtin_add_overflow(a.i, b.i, &r) : __builtin_sub_overflow(a.i, b.i, &r)) too_large();
      return make_int(r);
    }
    return make_float(op == '+' ? as_f(a) + as_f(b) : as_f(a) - as_f(b));
  }
  static Value mul(const Value& a, const Value& b) {
    no_tuple(a, b, "*");
    if (a.is_int && b.is_int) {
      std::int64_t r;
      if (__builtin_mul_overflow(a.i, b.i, &r)) too_large();
      return make_int(r);
    }
    return make_float(as_f(a) * as_f(b));
  }
  static Value truediv(const Value& a, const Value& b) {
    no_tuple(a, b, "/");
    if (b.is_int ? b.i == 0 : b.f == 0.0) throw ToolError(a.is_int && b.is_int ? "division by zero" : "float division by zero");
    if (a.is_int && b.is_int) {
      // Python rounds int/int correctly; exact for operands below 2**53, which covers use here.
      return make_float(to_float(a.i) / to_float(b.i));
    }
    return make_float(as_f(a) / as_f(b));
  }
  static Value floordiv(const Value& a, const Value& b) {
    no_tuple(a, b, "//");
    if (b.is_int ? b.i == 0 : b.f == 0.0)
      throw ToolError(a.is_int && b.is_int ? "integer division or modulo by zero" : "float floor division by zero");
    if (a.is_int && b.is_int) {
      std::int64_t q = a.i / b.i;
      if ((a.i % b.i != 0) && ((a.i < 0) != (b.i < 0))) --q;
      return make_int(q);
    }
    const double x = as_f(a), y = as_f(b);
    return make_float(std::floor(x / y));
  }
  static Value pow(const Value& a, const Value& b) {
    no_tuple(a, b, "** or pow()");
    if (a.is_int && b.is_int && b.i >= 0) {
      if (a.i == 0) return make_int(b.i == 0 ? 1 : 0);
      if (a.i == 1) return make_int(1);
      if (a.i == -1) return make_int(b.i % 2 == 0 ? 1 : -1);
      std::int64_t r = 1;
      for (std::int64_t k = 0; k < b.i; ++k)
        if (__builtin_mul_overflow(r, a.i, &r)) too_large();
      return make_int(r);
    }
    const double x = as_f(a), y = as_f(b);
    if (x == 0.0 && y < 0) throw ToolError("0.0 cannot be raised to a negative power");
    if (x < 0 && y != std::floor(y)) throw ToolError("float() argument must be a string or a real number, not 'complex'");
    return make_float(std::pow(x, y));
  }

  std::string s_;
  size_t pos_ = 0;
};

// The tool itself (ToolType GENERIC, does not mutate state).
inline Tool calculate_tool() {
  Tool t;
  t.name = "calculate";
  t.description = "Calculate the result of a mathematical expression.";
  t.params = {ToolParam{"expression", schema::string(),
                        "The mathematical expression to calculate, such as '2 + 2'. The expression can contain numbers, "
                        "operators (+, -, *, /), parentheses, and spaces.",
                        true, nullptr}};
  t.type = ToolType::Generic;
  t.mutates_state = false;
  return t;
}

inline Json run_calculate(const Kwargs& a) {
  const Json& e = a["expression"];
  if (!e.is_string()) throw ToolError("'" + py::type_name(e) + "' object is not iterable");
  return Json(PythonArithmetic::calculate(e.get<std::string>()));
}

inline Tool transfer_to_human_agents_tool() {
  Tool t;
  t.name = "transfer_to_human_agents";
  t.description =
      "Transfer the user to a human agent, with a summary of the user's issue.\n\nOnly transfer if\n -  the user explicitly "
      "asks for a human agent\n -  given the policy and the available tools, you cannot solve the user's issue.";
  t.params = {ToolParam{"summary", schema::string(), "A summary of the user's issue.", true, nullptr}};
  t.type = ToolType::Generic;
  t.mutates_state = false;
  return t;
}

}  // namespace gemma4::eval::tau2
