// MathArena's sympy path (ParsePrimitive.parse after int() and float() failed), as explicit C++.
//
// Official code: eth-sri/matharena @ e9276603, src/matharena/parser.py ParsePrimitive.parse and
// latex2sympy_fixed, run with sympy 1.14 and antlr4-python3-runtime 4.11. What it does with an
// answer string s that is neither str.isdigit() nor float():
//   1. rewrite LaTeX into Python syntax with regular expressions (rewrite_for_sympify below),
//   2. sympy.sympify() the result: a SymPy expression, auto-simplified the way SymPy's
//      constructors simplify (Add collects like terms, Mul combines powers and distributes a
//      number over a sum, Integer**Rational extracts perfect powers);
//   3. if sympify raised, sympy.parsing.latex.parse_latex() on s itself (after the two digit
//      rewrites of step 1), then simplify(): an integer becomes int, a Rational stays a
//      Rational, any other real number becomes a Python float (beyond float range: the integer
//      int(N(v, 50001))), a non-real one a Python complex, anything else (free symbols) the
//      expression. A lexer or number-conversion error makes the answer None, and extract_answer
//      then falls back to the last integer of the whole response. A syntax error is subtler: the
//      ANTLR grammar's start rule does not require EOF, so a loop that cannot take one more
//      iteration just ends and the rest of the input is ignored (`42 \div \sqrt(3){5}` is 42);
//      only an expression that cannot even start is an error (LatexParser::another).
//
// The port evaluates both steps over an exact number model: a sum of monomials, each a rational
// (or Float) coefficient times a product of atoms raised to rational exponents, the atoms being
// primes (radicals: sqrt(8) = 2*2^(1/2)), pi, E and free symbols. That is exactly the canonical
// form SymPy's constructors maintain for these inputs, so like terms cancel (x - x + 42 = 42,
// sqrt(2)*sqrt(8) = 4) as they do in SymPy, while a product of two sums stays unexpanded in the
// sympify path (SymPy keeps (1+sqrt(2))*(sqrt(2)-1) as a product; only its numeric value is
// known here) and is expanded in the parse_latex path (where simplify() would find the value).
// Rationals are exact up to 127 bits; beyond that only their long double value is kept.
//
// Not reproduced (reported as {"expression": ..., "port_gap": why}, never counted correct):
// functions other than sqrt, binomial and factorial (\log, \sin, ...), relations, |x|, floor,
// ceil, sums/integrals/limits, arithmetic with the imaginary unit (i*i is not folded to -1),
// factorials of non-integers and binomials with a non-integer k (gamma functions), Python
// operators SymPy gives special meaning (%, //, <, ==, &, |, ~, @, attribute access), and
// identifiers that name SymPy objects other than pi, E, e, I, oo, zoo, nan. None of these can
// produce a correct AIME answer except a function of integers that evaluates to one (e.g.
// \log_2 1024), which MathArena counts and this port does not.
#pragma once

#include "gemma4_eval/python_text.h"

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gemma4::eval::aime::sympy_path {

__extension__ typedef __int128 i128;

// ---- exact rationals over 128-bit integers ----------------------------------------------------

struct Overflow {};  // an exact value left 128 bits

inline i128 checked_add(i128 a, i128 b) {
  i128 r;
  if (__builtin_add_overflow(a, b, &r)) throw Overflow{};
  return r;
}
inline i128 checked_mul(i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw Overflow{};
  return r;
}
inline i128 abs128(i128 a) { return a < 0 ? -a : a; }
inline i128 gcd128(i128 a, i128 b) {
  a = abs128(a), b = abs128(b);
  while (b != 0) a %= b, std::swap(a, b);
  return a;
}

inline std::string to_string(i128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  for (; v != 0; v /= 10) digits.insert(digits.begin(), static_cast<char>('0' + abs128(v % 10)));
  return negative ? "-" + digits : digits;
}

struct Q {
  i128 num = 0, den = 1;  // reduced, den > 0
  bool is_integer() const { return den == 1; }
  bool is_zero() const { return num == 0; }
  long double ld() const { return static_cast<long double>(num) / static_cast<long double>(den); }
  bool operator==(const Q& o) const { return num == o.num && den == o.den; }
  // Only orders map keys (monomials): any strict order on reduced fractions will do.
  bool operator<(const Q& o) const { return num != o.num ? num < o.num : den < o.den; }
};

inline Q make_q(i128 n, i128 d) {  // d != 0
  if (d < 0) n = -n, d = -d;
  const i128 g = gcd128(n, d);
  if (g > 1) n /= g, d /= g;
  return {n, d};
}
inline Q operator+(const Q& a, const Q& b) {
  const i128 g = gcd128(a.den, b.den);
  return make_q(checked_add(checked_mul(a.num, b.den / g), checked_mul(b.num, a.den / g)), checked_mul(a.den / g, b.den));
}
inline Q operator-(const Q& a) { return {-a.num, a.den}; }
inline Q operator*(const Q& a, const Q& b) {
  const i128 g1 = gcd128(a.num, b.den), g2 = gcd128(b.num, a.den);
  const i128 d1 = g1 == 0 ? 1 : g1, d2 = g2 == 0 ? 1 : g2;
  return make_q(checked_mul(a.num / d1, b.num / d2), checked_mul(a.den / d2, b.den / d1));
}
inline Q inverse(const Q& a) { return make_q(a.den, a.num); }  // a != 0
inline Q pow_int(Q base, i128 k) {  // k >= 0
  Q result{1, 1};
  for (; k > 0; k >>= 1) {
    if (k & 1) result = result * base;
    if (k > 1) base = base * base;
  }
  return result;
}
inline i128 floor_div(i128 a, i128 b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Prime factors of n > 0 by trial division up to 10^6; a larger remaining cofactor is kept as
// one "prime" (only radicands beyond 10^12 can be affected).
inline std::vector<std::pair<i128, int>> factorize(i128 n) {
  std::vector<std::pair<i128, int>> out;
  for (i128 p = 2; p <= 1000000 && p * p <= n; ++p) {
    int e = 0;
    while (n % p == 0) n /= p, ++e;
    if (e) out.push_back({p, e});
  }
  if (n > 1) out.push_back({n, 1});
  return out;
}

// ---- the number model -------------------------------------------------------------------------

// An atom of a monomial. Ordering only has to be consistent.
struct Atom {
  enum Kind { prime, pi, e, symbol } kind;
  i128 p = 0;        // prime
  std::string name;  // symbol
  bool operator<(const Atom& o) const {
    if (kind != o.kind) return kind < o.kind;
    if (p != o.p) return p < o.p;
    return name < o.name;
  }
};
using Monomial = std::map<Atom, Q>;  // atom -> exponent; prime exponents lie in (0, 1)

// A SymPy number coefficient: an exact Rational or a Float (binary, 53 bits like SymPy's default).
struct Coef {
  bool is_float = false;
  Q q{0, 1};
  double f = 0;
  long double ld() const { return is_float ? f : q.ld(); }
  bool is_zero() const { return is_float ? false : q.is_zero(); }  // SymPy keeps 0.0 as a Float
};
inline Coef rational(Q q) { return {false, q, 0}; }
inline Coef floating(double f) { return {true, {0, 1}, f}; }
inline Coef operator+(const Coef& a, const Coef& b) {
  if (a.is_float || b.is_float) return floating(static_cast<double>(a.ld() + b.ld()));
  return rational(a.q + b.q);
}
inline Coef operator*(const Coef& a, const Coef& b) {
  if (a.is_float || b.is_float) return floating(static_cast<double>(a.ld() * b.ld()));
  return rational(a.q * b.q);
}

struct Expr {
  enum class Kind {
    sum,         // terms: SymPy's canonical Add of monomials (no terms = 0)
    opaque,      // a product/power SymPy leaves unevaluated; `approx` holds its value
    big_rational, // a Rational beyond 127 bits (`integral`: an Integer); `approx` holds its value
    nonfinite,   // zoo, oo, nan
    gap,         // outside this port (see the header comment); `text` says why
    list,        // a Python list from sympify ({..} became [..]); arithmetic on it raises
  };
  Kind kind = Kind::sum;
  std::map<Monomial, Coef> terms;
  std::complex<long double> approx{0, 0};
  bool has_symbols = false;
  std::string text;
  std::vector<Expr> items;  // list
  bool imaginary_unit = false;  // sympy I: alone it is just "not real"; arithmetic with it is a gap
  bool integral = true;         // big_rational: an Integer
};

struct LatexError {};        // a syntax error where the ANTLR parser was (see LatexParser::another)
struct LatexFatal {};        // a lexer or conversion error: parse_latex raises, ParsePrimitive gives None
struct SympifyFailed {};     // sympify raised: MathArena tries parse_latex
struct PortGap { std::string why; };

inline Expr number(Coef c) {
  Expr e;
  if (!c.is_zero()) e.terms[{}] = c;
  return e;
}
inline Expr integer(i128 v) { return number(rational({v, 1})); }
inline Expr atom_expr(Atom a) {
  Expr e;
  e.terms[Monomial{{std::move(a), Q{1, 1}}}] = rational({1, 1});
  if (e.terms.begin()->first.begin()->first.kind == Atom::symbol) e.has_symbols = true;
  return e;
}
inline Expr nonfinite(std::string what) {
  Expr e;
  e.kind = Expr::Kind::nonfinite;
  e.text = std::move(what);
  return e;
}

inline bool is_number(const Expr& e) {  // a plain Rational/Float (or zero)
  return e.kind == Expr::Kind::sum && (e.terms.empty() || (e.terms.size() == 1 && e.terms.begin()->first.empty()));
}
inline Coef number_of(const Expr& e) { return e.terms.empty() ? rational({0, 1}) : e.terms.begin()->second; }
inline bool is_exact_rational(const Expr& e) { return is_number(e) && !number_of(e).is_float; }

inline std::complex<long double> approximate(const Expr& e) {
  if (e.kind != Expr::Kind::sum) return e.approx;
  long double total = 0;
  for (const auto& [mono, coef] : e.terms) {
    long double v = coef.ld();
    for (const auto& [atom, exponent] : mono) {
      const long double base = atom.kind == Atom::prime ? static_cast<long double>(atom.p)
                               : atom.kind == Atom::pi  ? 3.141592653589793238462643383279502884L
                                                        : 2.718281828459045235360287471352662498L;
      v *= std::pow(base, exponent.ld());
    }
    total += v;
  }
  return {total, 0};
}

inline Expr opaque(std::complex<long double> value, bool symbols) {
  Expr e;
  e.kind = Expr::Kind::opaque;
  e.approx = value;
  e.has_symbols = symbols;
  return e;
}

// A SymPy Rational (exact or beyond 127 bits), and whether it is an Integer.
inline bool rational_like(const Expr& e) { return e.kind == Expr::Kind::big_rational || is_exact_rational(e); }
inline bool integral_like(const Expr& e) {
  return e.kind == Expr::Kind::big_rational ? e.integral : is_exact_rational(e) && number_of(e).q.is_integer();
}
// The result of exact arithmetic that left 128 bits: only its value is kept.
inline Expr big_rational(std::complex<long double> value, bool integral) {
  Expr e;
  e.kind = Expr::Kind::big_rational;
  e.approx = value;
  e.integral = integral;
  return e;
}

inline Expr imaginary_unit() {
  Expr e = opaque({0, 1}, false);
  e.imaginary_unit = true;
  return e;
}

// Monomial product: exponents of equal atoms add (Mul.flatten); a prime's integer part moves into
// the coefficient, so sqrt(2)*sqrt(2) = 2 and sqrt(8) = 2*sqrt(2).
inline std::pair<Coef, Monomial> multiply(const Coef& ca, const Monomial& a, const Coef& cb, const Monomial& b) {
  Coef c = ca * cb;
  Monomial m = a;
  for (const auto& [atom, exponent] : b) {
    auto it = m.find(atom);
    Q total = it == m.end() ? exponent : it->second + exponent;
    if (atom.kind == Atom::prime) {
      const i128 whole = floor_div(total.num, total.den);
      if (whole != 0) {
        const Q factor = whole > 0 ? Q{pow_int({atom.p, 1}, whole).num, 1} : inverse(pow_int({atom.p, 1}, -whole));
        c = c * rational(factor);
        total = total + Q{-whole, 1};
      }
    }
    if (total.is_zero()) {
      if (it != m.end()) m.erase(it);
    } else {
      m[atom] = total;
    }
  }
  return {c, m};
}

inline Expr add(const Expr& a, const Expr& b);
inline Expr mul(const Expr& a, const Expr& b, bool expand);

inline bool poisoned(const Expr& a, const Expr& b, Expr& out) {
  if (a.kind == Expr::Kind::list || b.kind == Expr::Kind::list) throw SympifyFailed{};  // TypeError
  for (const Expr* x : {&a, &b})
    if (x->kind == Expr::Kind::gap) return out = *x, true;
  if (a.imaginary_unit || b.imaginary_unit) {
    out = Expr{Expr::Kind::gap, {}, {}, false, "arithmetic with the imaginary unit", {}, false};
    return true;
  }
  for (const Expr* x : {&a, &b})
    if (x->kind == Expr::Kind::nonfinite) return out = *x, true;
  return false;
}

inline Expr add(const Expr& a, const Expr& b) {
  Expr out;
  if (a.kind == Expr::Kind::list && b.kind == Expr::Kind::list) {  // Python list concatenation
    out = a;
    out.items.insert(out.items.end(), b.items.begin(), b.items.end());
    return out;
  }
  if (poisoned(a, b, out)) return out;
  if (a.kind == Expr::Kind::sum && b.kind == Expr::Kind::sum) {
    try {
      out = a;
      for (const auto& [mono, coef] : b.terms) {
        auto it = out.terms.find(mono);
        if (it == out.terms.end()) {
          out.terms[mono] = coef;
        } else {
          it->second = it->second + coef;
          if (it->second.is_zero()) out.terms.erase(it);
        }
      }
      out.has_symbols = false;
      for (const auto& [mono, coef] : out.terms)
        for (const auto& [atom, exponent] : mono) out.has_symbols |= atom.kind == Atom::symbol;
      return out;
    } catch (const Overflow&) {
    }
  }
  if (rational_like(a) && rational_like(b))
    return big_rational(approximate(a) + approximate(b), integral_like(a) && integral_like(b));
  return opaque(approximate(a) + approximate(b), a.has_symbols || b.has_symbols);
}

inline Expr negate(const Expr& a) {
  if (a.kind == Expr::Kind::list) throw SympifyFailed{};  // -[x]: TypeError (not list repetition)
  return mul(integer(-1), a, false);
}

// SymPy's Mul: monomials multiply; a number distributes over a sum (2*(x+1) = 2*x + 2); any
// other product of a sum stays unevaluated unless `expand` (the parse_latex path's simplify()).
inline Expr mul(const Expr& a, const Expr& b, bool expand) {
  Expr out;
  // list * Integer (or Integer * list) repeats the list, as Python does through Integer.__index__
  if ((a.kind == Expr::Kind::list) != (b.kind == Expr::Kind::list)) {
    const Expr& list = a.kind == Expr::Kind::list ? a : b;
    const Expr& n = a.kind == Expr::Kind::list ? b : a;
    if (!is_exact_rational(n) || !number_of(n).q.is_integer()) throw SympifyFailed{};  // TypeError
    if (number_of(n).q.num > 1000) throw PortGap{"a list repeated more than 1000 times"};
    out.kind = Expr::Kind::list;
    for (i128 k = 0; k < number_of(n).q.num; ++k) out.items.insert(out.items.end(), list.items.begin(), list.items.end());
    return out;
  }
  if (poisoned(a, b, out)) return out;
  for (const Expr* x : {&a, &b})  // 0 * (anything finite) = 0, also a huge or unevaluated factor
    if (x->kind == Expr::Kind::sum && x->terms.empty()) return integer(0);
  if (a.kind == Expr::Kind::sum && b.kind == Expr::Kind::sum) {
    if (a.terms.empty() || b.terms.empty()) return integer(0);
    const bool distribute = expand || a.terms.size() == 1 || b.terms.size() == 1;
    const bool single_atoms = (a.terms.size() == 1 && (b.terms.size() == 1 || a.terms.begin()->first.empty())) ||
                              (b.terms.size() == 1 && b.terms.begin()->first.empty());
    if (distribute && (expand || single_atoms)) {
      try {
        Expr sum;
        for (const auto& [ma, ca] : a.terms)
          for (const auto& [mb, cb] : b.terms) {
            auto [c, m] = multiply(ca, ma, cb, mb);
            Expr term;
            if (!c.is_zero()) term.terms[m] = c;
            for (const auto& [atom, exponent] : m) term.has_symbols |= atom.kind == Atom::symbol;
            sum = add(sum, term);
          }
        return sum;
      } catch (const Overflow&) {
      }
    }
  }
  if (rational_like(a) && rational_like(b))
    return big_rational(approximate(a) * approximate(b), integral_like(a) && integral_like(b));
  return opaque(approximate(a) * approximate(b), a.has_symbols || b.has_symbols);
}

// base ** exponent with SymPy's automatic evaluation for the cases that reach it here.
inline Expr power(const Expr& base, const Expr& exponent, bool expand) {
  Expr out;
  if (poisoned(base, exponent, out)) return out;
  if (exponent.kind == Expr::Kind::sum && exponent.terms.empty()) return integer(1);  // x**0 = 1
  if (is_exact_rational(base) && number_of(base).q == Q{1, 1}) return integer(1);     // 1**x = 1
  if (base.kind == Expr::Kind::sum && base.terms.empty() && !exponent.has_symbols && exponent.kind != Expr::Kind::nonfinite) {
    const auto e = approximate(exponent);  // 0**positive = 0, 0**negative = zoo
    if (e.imag() == 0 && e.real() != 0) return e.real() > 0 ? integer(0) : nonfinite("zoo");
  }
  if (is_number(base) && number_of(base).is_float && number_of(base).f == 0 && is_number(exponent) &&
      number_of(exponent).ld() < 0)
    return nonfinite("zoo");
  const bool base_single = base.kind == Expr::Kind::sum && base.terms.size() == 1;
  if (is_exact_rational(exponent) && base.kind == Expr::Kind::sum) {
    const Q k = number_of(exponent).q;
    if (base.terms.empty()) {  // 0**k
      if (k.is_zero()) return integer(1);
      return k.num > 0 ? integer(0) : nonfinite("zoo");
    }
    try {
      if (k.is_integer()) {
        if (k.num == 0) return integer(1);
        if (base_single) {
          Expr result = integer(1);
          const i128 n = abs128(k.num);
          if (n > 100000) throw Overflow{};
          // Repeated squaring over monomials keeps every step exact.
          Expr sq = base;
          for (i128 r = n; r > 0; r >>= 1) {
            if (r & 1) result = mul(result, sq, false);
            if (r > 1) sq = mul(sq, sq, false);
            if (result.kind != Expr::Kind::sum || sq.kind != Expr::Kind::sum) throw Overflow{};
          }
          if (k.num > 0) return result;
          // 1/c * prod a^-e: invert the coefficient, negate exponents (primes renormalised).
          const auto& [rm, rc] = *result.terms.begin();
          if (rc.is_zero()) return nonfinite("zoo");
          Coef inv = rc.is_float ? floating(static_cast<double>(1.0L / rc.ld())) : rational(inverse(rc.q));
          Monomial neg;
          for (const auto& [atom, e] : rm) neg[atom] = -e;
          Monomial empty;
          auto [c, m] = multiply(inv, empty, rational({1, 1}), neg);
          Expr r;
          r.terms[m] = c;
          r.has_symbols = result.has_symbols;
          return r;
        }
        if (expand && k.num > 0 && k.num <= 64) {
          Expr result = integer(1);
          for (i128 i = 0; i < k.num; ++i) result = mul(result, base, true);
          return result;
        }
      } else if (base_single) {
        const auto& [mono, coef] = *base.terms.begin();
        bool symbol_ok = true;
        for (const auto& [atom, e] : mono)
          if (atom.kind == Atom::symbol && !(e == Q{1, 1})) symbol_ok = false;
        if (!coef.is_float && coef.q.num > 0 && symbol_ok) {
          // (n/d)**(p/q): factor n and d, scale every exponent, renormalise primes.
          Monomial scaled;
          for (const auto& [atom, e] : mono) scaled[atom] = e * k;
          Coef c = rational({1, 1});
          Monomial acc;
          auto fold = [&](i128 n, int sign) {
            for (const auto& [p, e] : factorize(n)) {
              Monomial one{{Atom{Atom::prime, p, {}}, Q{sign * e, 1} * k}};
              // multiply() only renormalises atoms of its second argument
              auto [c2, m2] = multiply(c, acc, rational({1, 1}), one);
              c = c2, acc = m2;
            }
          };
          fold(coef.q.num, 1);
          fold(coef.q.den, -1);
          auto [c2, m2] = multiply(c, acc, rational({1, 1}), scaled);
          Expr r;
          if (!c2.is_zero()) r.terms[m2] = c2;
          r.has_symbols = base.has_symbols;
          return r;
        }
        if (!coef.is_float && coef.q.num < 0 && !base.has_symbols) {
          // (-8)**(1/3): SymPy's principal root, not real
          return opaque(std::pow(approximate(base), std::complex<long double>(k.ld(), 0)), false);
        }
      }
    } catch (const Overflow&) {
      if (k.is_integer() && is_exact_rational(base))
        return big_rational(std::pow(approximate(base), std::complex<long double>(k.ld(), 0)),
                            k.num > 0 && number_of(base).q.is_integer());
    }
  }
  if (is_number(exponent) && number_of(exponent).is_float && is_number(base) && number_of(base).ld() > 0)
    return number(floating(static_cast<double>(std::pow(number_of(base).ld(), number_of(exponent).ld()))));
  if (is_number(base) && number_of(base).is_float && is_exact_rational(exponent) && number_of(base).ld() > 0)
    return number(floating(static_cast<double>(std::pow(number_of(base).ld(), number_of(exponent).ld()))));
  if (base.kind == Expr::Kind::big_rational && is_exact_rational(exponent) && number_of(exponent).q.is_integer())
    return big_rational(std::pow(base.approx, std::complex<long double>(number_of(exponent).ld(), 0)),
                        base.integral && number_of(exponent).q.num > 0);
  return opaque(std::pow(approximate(base), approximate(exponent)), base.has_symbols || exponent.has_symbols);
}

inline Expr factorial(const Expr& x, int step) {  // step 1: n!, step 2: n!!
  if (x.kind == Expr::Kind::list) throw SympifyFailed{};
  if (x.imaginary_unit) return Expr{Expr::Kind::gap, {}, {}, false, "arithmetic with the imaginary unit", {}, false};
  if (x.kind == Expr::Kind::gap || x.kind == Expr::Kind::nonfinite) return x;
  if (!is_exact_rational(x) || !number_of(x).q.is_integer())
    return x.has_symbols ? opaque({0, 0}, true) : Expr{Expr::Kind::gap, {}, {}, false, "factorial of a non-integer", {}};
  const i128 n = number_of(x).q.num;
  if (n < 0) {
    if (step == 1) return nonfinite("zoo");  // factorial(-1) = zoo
    return Expr{Expr::Kind::gap, {}, {}, false, "double factorial of a negative integer", {}};
  }
  Q r{1, 1};
  long double approx = 1;
  bool overflow = false;
  for (i128 k = n; k > 1; k -= step) {
    approx *= static_cast<long double>(k);
    if (!overflow) {
      try {
        r = r * Q{k, 1};
      } catch (const Overflow&) {
        overflow = true;
      }
    }
  }
  if (!overflow) return number(rational(r));
  Expr big;
  big.kind = Expr::Kind::big_rational;
  big.approx = approx;
  return big;
}

inline Expr divide(const Expr& a, const Expr& b, bool expand);

// sympy binomial(n, k).eval: k = 0 gives 1, k = 1 gives n, a negative integer k gives 0; for an
// integer k >= 2 a numeric n evaluates to n(n-1)...(n-k+1)/k! (0 when 0 <= n < k), a symbolic n
// stays unevaluated.
inline Expr binomial(const Expr& n, const Expr& k) {
  Expr out;
  if (n.kind != Expr::Kind::gap && n.kind != Expr::Kind::list && !n.imaginary_unit && is_exact_rational(k) &&
      number_of(k).q.is_integer() && number_of(k).q.num < 0)
    return integer(0);  // checked before n: binomial(zoo, -9) = 0
  if (poisoned(n, k, out)) return out;
  if (!is_exact_rational(k) || !number_of(k).q.is_integer())
    return n.has_symbols || k.has_symbols ? opaque({0, 0}, true)
                                          : Expr{Expr::Kind::gap, {}, {}, false, "binomial with a non-integer k", {}};
  const i128 kk = number_of(k).q.num;
  if (kk == 0) return integer(1);
  if (kk == 1) return n;
  if (kk < 0) return integer(0);
  if (n.has_symbols) return opaque({0, 0}, true);
  if (is_exact_rational(n) && number_of(n).q.is_integer() && number_of(n).q.num >= 0) {
    const i128 nn = number_of(n).q.num;
    if (kk > nn) return integer(0);
    const i128 m = std::min(kk, nn - kk);
    try {
      i128 r = 1;
      for (i128 i = 1; i <= m; ++i) r = checked_mul(r, nn - m + i) / i;  // exact at every step
      return integer(r);
    } catch (const Overflow&) {
      Expr big;
      big.kind = Expr::Kind::big_rational;
      big.approx = std::exp(std::lgamma(static_cast<long double>(nn) + 1) - std::lgamma(static_cast<long double>(m) + 1) -
                            std::lgamma(static_cast<long double>(nn - m) + 1));
      return big;
    }
  }
  if (kk > 1000) return Expr{Expr::Kind::gap, {}, {}, false, "binomial with a huge k", {}};
  Expr product = integer(1);
  for (i128 i = 0; i < kk; ++i) product = mul(product, add(n, integer(-i)), false);
  return divide(product, factorial(k, 1), false);
}

inline Expr divide(const Expr& a, const Expr& b, bool expand) {
  if (b.kind == Expr::Kind::sum && b.terms.empty()) {  // x/0: zoo, 0/0: nan
    if (a.kind == Expr::Kind::sum && a.terms.empty()) return nonfinite("nan");
    return a.kind == Expr::Kind::gap ? a : nonfinite("zoo");
  }
  return mul(a, power(b, integer(-1), expand), expand);
}

// ---- scanners reproducing ParsePrimitive's re.sub calls --------------------------------------

inline bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool ascii_digit(char c) { return c >= '0' && c <= '9'; }

// re.sub(pattern, repl, s) for a pattern given as a matcher: at each position, left to right,
// match(s, i) returns the match end and its replacement, or nullopt; matches do not overlap and
// an empty match is never produced by these patterns.
template <typename Match>
std::string substitute(const std::string& s, Match match) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (auto m = match(s, i)) {
      out += m->second;
      i = m->first;
    } else {
      out += s[i++];
    }
  }
  return out;
}
using MatchResult = std::optional<std::pair<std::size_t, std::string>>;

// `\\*` then `name`: the position after the name, or npos.
inline std::size_t after_backslashes_and(const std::string& s, std::size_t i, std::string_view name) {
  std::size_t j = i;
  while (j < s.size() && s[j] == '\\') ++j;
  return s.compare(j, name.size(), name) == 0 ? j + name.size() : std::string::npos;
}
// `\{([^{}]*)\}` at i: the group and the position after '}'.
inline std::optional<std::pair<std::string, std::size_t>> plain_brace_group(const std::string& s, std::size_t i) {
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  const std::size_t close = s.find_first_of("{}", i + 1);
  if (close == std::string::npos || s[close] != '}') return std::nullopt;
  return std::make_pair(s.substr(i + 1, close - i - 1), close + 1);
}

// r"\\*(?:dfrac|tfrac|frac)\{([^{}]*)\}\{([^{}]*)\}" -> r"(\1)/(\2)"
inline MatchResult match_frac(const std::string& s, std::size_t i) {
  for (std::string_view name : {"dfrac", "tfrac", "frac"}) {
    const std::size_t j = after_backslashes_and(s, i, name);
    if (j == std::string::npos) continue;
    auto a = plain_brace_group(s, j);
    if (!a) continue;
    auto b = plain_brace_group(s, a->second);
    if (!b) continue;
    return std::make_pair(b->second, "(" + a->first + ")/(" + b->first + ")");
  }
  return std::nullopt;
}
// r"\\*binom\{([^{}]*)\}\{([^{}]*)\}" -> r"binomial(\1, \2)"
inline MatchResult match_binom(const std::string& s, std::size_t i) {
  const std::size_t j = after_backslashes_and(s, i, "binom");
  if (j == std::string::npos) return std::nullopt;
  auto a = plain_brace_group(s, j);
  if (!a) return std::nullopt;
  auto b = plain_brace_group(s, a->second);
  if (!b) return std::nullopt;
  return std::make_pair(b->second, "binomial(" + a->first + ", " + b->first + ")");
}
// r"\\*sqrt\[(.*?)\]\{(.*?)\}" -> r"(\2)**(1/(\1))" (`.` stops at a newline; both lazy)
inline MatchResult match_sqrt_index(const std::string& s, std::size_t i) {
  std::size_t j = after_backslashes_and(s, i, "sqrt[");
  if (j == std::string::npos) return std::nullopt;
  for (std::size_t k = j; k < s.size() && s[k] != '\n'; ++k) {
    if (s[k] != ']' || k + 1 >= s.size() || s[k + 1] != '{') continue;
    std::size_t c = k + 2;
    while (c < s.size() && s[c] != '}' && s[c] != '\n') ++c;
    if (c < s.size() && s[c] == '}')
      return std::make_pair(c + 1, "(" + s.substr(k + 2, c - k - 2) + ")**(1/(" + s.substr(j, k - j) + "))");
  }
  return std::nullopt;
}
// r"\\*sqrt\((\d+)\)\{([^{}]*)\}" -> r"(\2)**(1/(\1))"
inline MatchResult match_sqrt_paren(const std::string& s, std::size_t i) {
  std::size_t j = after_backslashes_and(s, i, "sqrt(");
  if (j == std::string::npos) return std::nullopt;
  std::size_t k = j;
  while (k < s.size() && ascii_digit(s[k])) ++k;
  if (k == j || k >= s.size() || s[k] != ')') return std::nullopt;
  auto g = plain_brace_group(s, k + 1);
  if (!g) return std::nullopt;
  return std::make_pair(g->second, "(" + g->first + ")**(1/(" + s.substr(j, k - j) + "))");
}
// r"\\*sqrt\{(.*?)\}" -> r"(\1)**(1/2)" (lazy: up to the first '}', not across a newline)
inline MatchResult match_sqrt(const std::string& s, std::size_t i) {
  std::size_t j = after_backslashes_and(s, i, "sqrt{");
  if (j == std::string::npos) return std::nullopt;
  std::size_t c = j;
  while (c < s.size() && s[c] != '}' && s[c] != '\n') ++c;
  if (c >= s.size() || s[c] != '}') return std::nullopt;
  return std::make_pair(c + 1, "(" + s.substr(j, c - j) + ")**(1/2)");
}
// r"\{(\d+)\}" -> r"(\1)"
inline MatchResult match_braced_digits(const std::string& s, std::size_t i) {
  if (s[i] != '{') return std::nullopt;
  std::size_t k = i + 1;
  while (k < s.size() && ascii_digit(s[k])) ++k;
  if (k == i + 1 || k >= s.size() || s[k] != '}') return std::nullopt;
  return std::make_pair(k + 1, "(" + s.substr(i + 1, k - i - 1) + ")");
}
// r"\bi\b" -> "I", with `re`'s Unicode word characters.
inline std::string lone_i_to_I(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 'i' && py::word_boundary(s, i) && py::word_boundary(s, i + 1)) out += 'I';
    else out += s[i];
  }
  return out;
}

// One round of ParsePrimitive's rewrite loop (both loops; the second starts with {12} -> (12)).
inline std::string rewrite_round(std::string s, bool braced_digits_first) {
  if (braced_digits_first) s = substitute(s, match_braced_digits);
  s = substitute(s, match_frac);
  s = substitute(s, match_binom);
  s = substitute(s, match_sqrt_index);
  s = substitute(s, match_sqrt_paren);
  s = substitute(s, match_sqrt);
  s = py::replace_all(s, "^", "**");
  s = py::replace_all(py::replace_all(s, "\\cdot", "*"), "\\times", "*");
  // str.replace in this order: "\pi", then "\e" (also inside \exp, \epsilon), then "\i" (\infty).
  s = py::replace_all(py::replace_all(py::replace_all(s, "\\pi", " pi "), "\\e", " E "), "\\i", " I ");
  return lone_i_to_I(s);
}

// `[a-zA-Z]{1,2}` with (?<![a-zA-Z]) before and (?![a-zA-Z]) after, starting at i: its end.
inline std::optional<std::size_t> short_name_at(const std::string& s, std::size_t i) {
  if (i >= s.size() || !ascii_letter(s[i]) || (i > 0 && ascii_letter(s[i - 1]))) return std::nullopt;
  std::size_t k = i;
  while (k < s.size() && ascii_letter(s[k])) ++k;
  if (k - i > 2) return std::nullopt;
  return k;
}

// ParsePrimitive's "Handle implicit multiplication" passes and the {..} -> [..] pass.
inline std::string implicit_multiplication(std::string s) {
  // r"(\d|<name>)\(" -> r"\1*("
  s = substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    std::size_t end = ascii_digit(t[i]) ? i + 1 : short_name_at(t, i).value_or(std::string::npos);
    if (end == std::string::npos || end >= t.size() || t[end] != '(') return std::nullopt;
    return std::make_pair(end + 1, t.substr(i, end - i) + "*(");
  });
  // r"\)(\d|<name>)" -> r")*\1"
  s = substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    if (t[i] != ')' || i + 1 >= t.size()) return std::nullopt;
    std::size_t end = ascii_digit(t[i + 1]) ? i + 2 : short_name_at(t, i + 1).value_or(std::string::npos);
    if (end == std::string::npos) return std::nullopt;
    return std::make_pair(end, ")*" + t.substr(i + 1, end - i - 1));
  });
  // r"(?<=\d)(<name>)" -> r"*\1"
  s = substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    if (i == 0 || !ascii_digit(t[i - 1])) return std::nullopt;
    auto end = short_name_at(t, i);
    if (!end) return std::nullopt;
    return std::make_pair(*end, "*" + t.substr(i, *end - i));
  });
  // r"(<name>)(?=\d)" -> r"\1*"
  s = substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    auto end = short_name_at(t, i);
    if (!end || *end >= t.size() || !ascii_digit(t[*end])) return std::nullopt;
    return std::make_pair(*end, t.substr(i, *end - i) + "*");
  });
  // r"\{([^{}]*)\}" -> "[" + \1.replace(",", ", ") + "]"
  return substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    auto g = plain_brace_group(t, i);
    if (!g) return std::nullopt;
    return std::make_pair(g->second, "[" + py::replace_all(g->first, ",", ", ") + "]");
  });
}

// ParsePrimitive's pre-pass on `string` (kept for the parse_latex fallback too):
// re.sub(r"sqrt(\d+)", r"sqrt{\1}") and re.sub(r"frac(\d)", r"frac{\1}").
inline std::string digit_argument_braces(std::string s) {
  s = substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    if (t.compare(i, 4, "sqrt") != 0) return std::nullopt;
    std::size_t k = i + 4;
    while (k < t.size() && ascii_digit(t[k])) ++k;
    if (k == i + 4) return std::nullopt;
    return std::make_pair(k, "sqrt{" + t.substr(i + 4, k - i - 4) + "}");
  });
  return substitute(s, [](const std::string& t, std::size_t i) -> MatchResult {
    if (t.compare(i, 4, "frac") != 0 || i + 4 >= t.size() || !ascii_digit(t[i + 4])) return std::nullopt;
    return std::make_pair(i + 5, "frac{" + t.substr(i + 4, 1) + "}");
  });
}

inline std::string rewrite_for_sympify(const std::string& s) {
  std::string t = s;
  for (bool braced : {false, true})
    for (int k = 0; k < 5; ++k) {
      const std::string before = t;
      t = rewrite_round(t, braced);
      if (t == before) break;
    }
  return implicit_multiplication(t);
}

// ---- sympy.sympify on the rewritten string ------------------------------------------------------
// A recursive-descent parser for the Python expression subset the rewrites produce, with the
// transformations sympify applies: auto_number (ints -> Integer, decimals -> Float),
// auto_symbol (unknown names -> Symbol), factorial_notation (x! and x!!) and convert_xor.

class SympifyParser {
 public:
  explicit SympifyParser(std::string s) : s_(std::move(s)) { tokenize(); }

  Expr parse() {
    if (toks_.empty()) throw SympifyFailed{};  // sympify("") raises
    Expr e = expr();
    if (pos_ != toks_.size()) fail();
    return e;
  }

 private:
  struct Tok {
    enum Kind { number, name, op } kind;
    std::string text;
  };
  [[noreturn]] static void fail() { throw SympifyFailed{}; }

  // Python's tokenizer for this subset. A backslash, '$', '?', '`' or an unbalanced bracket is
  // a SyntaxError (sympify raises); operators SymPy gives other meanings are a port gap.
  void tokenize() {
    int depth = 0;
    for (std::size_t i = 0; i < s_.size();) {
      const char c = s_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        // A Unicode letter starts a Python identifier (NFKC-normalised: not reproduced); any
        // other character (°, ², Arabic-Indic digits) cannot start a token: SyntaxError.
        const py::CodePoint cp = py::decode_at(s_, i);
        if (py::is_word(cp.value) && !py::is_decimal(cp.value)) throw PortGap{"non-ASCII identifier"};
        fail();
      }
      if (ascii_digit(c) || (c == '.' && i + 1 < s_.size() && ascii_digit(s_[i + 1]))) {
        i = number_token(i);
        continue;
      }
      if (ascii_letter(c) || c == '_') {
        std::size_t k = i;
        while (k < s_.size() && (ascii_letter(s_[k]) || ascii_digit(s_[k]) || s_[k] == '_')) ++k;
        toks_.push_back({Tok::name, s_.substr(i, k - i)});
        i = k;
        continue;
      }
      if (s_.compare(i, 2, "**") == 0) {
        toks_.push_back({Tok::op, "**"});
        i += 2;
        continue;
      }
      if (s_.compare(i, 2, "//") == 0 || s_.compare(i, 2, "==") == 0 || s_.compare(i, 2, "!=") == 0)
        throw PortGap{"Python operator " + s_.substr(i, 2)};
      if (std::string_view("+-*/(),[]!").find(c) != std::string_view::npos) {
        if (c == '(' || c == '[') ++depth;
        if (c == ')' || c == ']') {
          if (--depth < 0) fail();
        }
        toks_.push_back({Tok::op, std::string(1, c)});
        ++i;
        continue;
      }
      if (c == '\\' || c == '$' || c == '?' || c == '`' || c == '{' || c == '}') {
        // '{' '}' survive only unbalanced; a lone backslash, $, ?, ` are tokenizer errors
        fail();
      }
      throw PortGap{std::string("Python operator ") + c};
    }
    if (depth != 0) fail();
  }

  // A Python number literal: decimal int (no leading zeros unless all zeros, '_' between
  // digits), float with '.', exponent, or 'j' suffix. A malformed literal is a SyntaxError.
  std::size_t number_token(std::size_t i) {
    std::size_t k = i;
    auto digits = [&]() {
      const std::size_t start = k;
      while (k < s_.size() && (ascii_digit(s_[k]) || (s_[k] == '_' && k > start && k + 1 < s_.size() && ascii_digit(s_[k + 1]))))
        ++k;
      return k - start;
    };
    const std::size_t int_digits = digits();
    bool is_float = false;
    if (k < s_.size() && s_[k] == '.') {
      is_float = true;
      ++k;
      digits();
    }
    if (k < s_.size() && (s_[k] == 'e' || s_[k] == 'E')) {
      std::size_t save = k++;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (digits() == 0) k = save;  // no exponent digits: "2e" then fails below, as in Python
      else is_float = true;
    }
    if (k < s_.size() && (s_[k] == 'j' || s_[k] == 'J')) throw PortGap{"imaginary literal"};
    if (k < s_.size() && (ascii_letter(s_[k]) || s_[k] == '_')) fail();  // "2x" is invalid Python
    std::string text;
    for (std::size_t p = i; p < k; ++p)
      if (s_[p] != '_') text += s_[p];
    if (!is_float && int_digits > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) fail();
    toks_.push_back({Tok::number, text});
    return k;
  }

  bool peek_op(std::string_view op) const { return pos_ < toks_.size() && toks_[pos_].kind == Tok::op && toks_[pos_].text == op; }
  bool eat(std::string_view op) {
    if (!peek_op(op)) return false;
    ++pos_;
    return true;
  }

  Expr expr() {
    Expr v = term();
    while (true) {
      if (eat("+")) v = add(v, term());
      else if (eat("-")) v = add(v, negate(term()));
      else return v;
    }
  }
  Expr term() {
    Expr v = factor();
    while (true) {
      if (eat("*")) v = mul(v, factor(), false);
      else if (eat("/")) v = divide(v, factor(), false);
      else return v;
    }
  }
  Expr factor() {
    if (eat("-")) return negate(factor());
    if (eat("+")) return factor();
    return power_expr();
  }
  Expr power_expr() {  // postfix ('**' factor)?  -- right-associative, tighter than a left unary minus
    Expr base = postfix();
    if (eat("**")) return power(base, factor(), false);
    return base;
  }
  // factorial_notation wraps the token or bracket group before the '!'s.
  Expr postfix() {
    bool call = false;
    Expr v = primary(call);
    int bangs = 0;
    while (eat("!")) ++bangs;
    if (bangs > 2) fail();  // raise TokenError
    if (bangs && call) throw PortGap{"factorial after a function call"};
    if (bangs) v = factorial(v, bangs);
    if (peek_op("(") || peek_op("[")) {
      // calling or indexing a number / Symbol: TypeError, so sympify fails
      fail();
    }
    return v;
  }
  Expr primary(bool& call) {
    if (pos_ >= toks_.size()) fail();
    const Tok t = toks_[pos_++];
    if (t.kind == Tok::number) {
      if (t.text.find_first_of(".eE") != std::string::npos) return number(floating(std::strtod(t.text.c_str(), nullptr)));
      i128 v = 0;
      try {
        for (char c : t.text) v = checked_add(checked_mul(v, 10), c - '0');
      } catch (const Overflow&) {
        Expr big;
        big.kind = Expr::Kind::big_rational;
        big.approx = std::strtold(t.text.c_str(), nullptr);
        return big;
      }
      return integer(v);
    }
    if (t.kind == Tok::op) {
      if (t.text == "(") {
        Expr v = expr();
        if (eat(",")) fail();  // a tuple: arithmetic on it raises TypeError
        if (!eat(")")) fail();
        return v;
      }
      if (t.text == "[") {  // a list literal: sympify returns a list; arithmetic on it raises
        Expr l;
        l.kind = Expr::Kind::list;
        if (!eat("]")) {
          do {
            if (peek_op("]")) break;  // trailing comma
            l.items.push_back(expr());
          } while (eat(","));
          if (!eat("]")) fail();
        }
        return l;
      }
      fail();
    }
    // names
    if (peek_op("(")) {
      if (t.text == "binomial") {
        call = true;
        ++pos_;
        Expr n = expr();
        if (!eat(",")) fail();
        Expr k = expr();
        if (!eat(")")) fail();
        return binomial(n, k);
      }
      static const char* const kFunctions[] = {"sqrt", "exp", "log", "ln", "sin", "cos", "tan", "factorial", "gamma",
                                               "Integer", "Float", "Rational", "Symbol", "N", "S", "re", "im", "abs",
                                               "max", "min", "pow", "sum", "floor", "ceiling", "root", "Abs"};
      for (const char* f : kFunctions)
        if (t.text == f) throw PortGap{"call of " + t.text};
      // A Symbol is callable: x(3) is an undefined function applied, free symbols either way.
      call = true;
      ++pos_;
      if (!eat(")")) {
        do {
          (void)expr();
        } while (eat(","));
        if (!eat(")")) fail();
      }
      return opaque({0, 0}, true);
    }
    if (t.text == "pi") return atom_expr({Atom::pi, 0, {}});
    if (t.text == "E" || t.text == "e") return atom_expr({Atom::e, 0, {}});
    if (t.text == "I") return imaginary_unit();
    if (t.text == "oo") return nonfinite("oo");
    if (t.text == "zoo" || t.text == "nan") return nonfinite(t.text);
    static const char* const kSympyNames[] = {"N", "S", "O", "Q", "re", "im", "ln", "Eq", "Ne", "Lt", "Gt", "Le", "Ge",
                                              "li", "Li", "Si", "Ci", "ff", "rf", "gamma", "beta", "zeta", "sqrt", "exp",
                                              "log", "sin", "cos", "tan", "binomial", "factorial", "Integer", "Float",
                                              "Rational", "Symbol", "None", "True", "False", "and", "or", "not", "in",
                                              "is", "if", "else", "for", "lambda", "max", "min", "abs", "sum", "pow"};
    for (const char* reserved : kSympyNames)
      if (t.text == reserved) throw PortGap{"name with a SymPy/Python meaning: " + t.text};
    Atom a{Atom::symbol, 0, t.text};
    return atom_expr(a);
  }

  std::string s_;
  std::vector<Tok> toks_;
  std::size_t pos_ = 0;
};

// ---- sympy.parsing.latex.parse_latex (the subset of LaTeX.g4 an integer answer can use) --------

class LatexParser {
 public:
  explicit LatexParser(const std::string& s) { lex(s); }

  // latex2sympy_fixed: parse; the free symbols pi, e, I, i become constants. A syntax error
  // raises; tokens after a complete expression are ignored (parse_latex without strict=True).
  Expr parse() {
    Expr e = relation();
    return e;
  }

 private:
  enum class T { digit, letter, symbol, differential, plus, minus, mul, div, cmd_times, cmd_cdot, cmd_div, colon,
                 lparen, rparen, lbrace, rbrace, lbrace_lit, rbrace_lit, lbracket, rbracket, bar, caret, underscore,
                 bang, comma, dot, quotes, relation, frac, binom, sqrt, unsupported, lex_error, end };
  struct Tok {
    T kind;
    std::string text;
  };

  void lex_error() { toks_.push_back({T::lex_error, {}}); }

  void lex(const std::string& s) {
    static const char* const kSkipped[] = {"thinspace", "medspace", "thickspace", "quad", "qquad", "negthinspace",
                                           "negmedspace", "negthickspace", "left", "right", "vrule", "vcenter",
                                           "vbox", "vskip", "vspace", "hfil"};
    static const char* const kUnsupported[] = {
        "lim", "to", "rightarrow", "Rightarrow", "longrightarrow", "Longrightarrow", "int", "sum", "prod", "exp",
        "log", "lg", "ln", "sin", "cos", "tan", "csc", "sec", "cot", "arcsin", "arccos", "arctan", "arccsc",
        "arcsec", "arccot", "sinh", "cosh", "tanh", "arsinh", "arcosh", "artanh", "lfloor", "rfloor", "lceil",
        "rceil", "overline", "mathit", "langle", "rangle", "neq", "leq", "le", "leqq", "leqslant", "geq", "ge",
        "geqq", "geqslant"};
    for (std::size_t i = 0; i < s.size();) {
      const char c = s[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i;
        continue;
      }
      if (c == '\\') {
        if (i + 1 >= s.size()) return lex_error();
        const char n = s[i + 1];
        if (ascii_letter(n)) {
          std::size_t k = i + 1;
          while (k < s.size() && ascii_letter(s[k])) ++k;
          const std::string name = s.substr(i + 1, k - i - 1);
          i = k;
          bool skipped = false;
          for (const char* x : kSkipped) skipped |= name == x;
          if (skipped) continue;
          if (name == "times") toks_.push_back({T::cmd_times, name});
          else if (name == "cdot") toks_.push_back({T::cmd_cdot, name});
          else if (name == "div") toks_.push_back({T::cmd_div, name});
          else if (name == "frac" || name == "dfrac" || name == "tfrac") toks_.push_back({T::frac, name});
          else if (name == "binom" || name == "dbinom" || name == "tbinom") toks_.push_back({T::binom, name});
          else if (name == "sqrt") toks_.push_back({T::sqrt, name});
          else {
            bool unsupported = false;
            for (const char* x : kUnsupported) unsupported |= name == x;
            toks_.push_back({unsupported ? T::unsupported : T::symbol, name});
          }
          continue;
        }
        if (n == ',' || n == ':' || n == ';' || n == '!' || n == '*' || n == '-' || n == '.' || n == '/' || n == '"' ||
            n == '(' || n == '=') {
          i += 2;  // THINSPACE, MEDSPACE, THICKSPACE, NEGTHINSPACE, IGNORE
          continue;
        }
        if (n == '{' || n == '}') {
          toks_.push_back({n == '{' ? T::lbrace_lit : T::rbrace_lit, std::string(1, n)});
          i += 2;
          continue;
        }
        return lex_error();  // "\%", "\$", "\\", "\)" ...: no token matches
      }
      if (c == 'd' && i + 1 < s.size()) {  // DIFFERENTIAL: 'd' WS*? ([a-zA-Z] | '\' [a-zA-Z]+)
        std::size_t k = i + 1;
        while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n')) ++k;
        if (k < s.size() && (ascii_letter(s[k]) || (s[k] == '\\' && k + 1 < s.size() && ascii_letter(s[k + 1])))) {
          std::size_t e = k + 1;
          if (s[k] == '\\')
            while (e < s.size() && ascii_letter(s[e])) ++e;
          toks_.push_back({T::differential, s.substr(i, e - i)});
          i = e;
          continue;
        }
      }
      if (ascii_letter(c)) {
        toks_.push_back({T::letter, std::string(1, c)});
        ++i;
        continue;
      }
      if (ascii_digit(c)) {
        toks_.push_back({T::digit, std::string(1, c)});
        ++i;
        continue;
      }
      if (c == '\'') {
        std::size_t k = i;
        while (k < s.size() && s[k] == '\'') ++k;
        toks_.push_back({T::quotes, s.substr(i, k - i)});
        i = k;
        continue;
      }
      if (c == '=' || c == '<' || c == '>' || c == '&') {
        if (c == '&' && (i + 1 >= s.size() || s.find('=', i) == std::string::npos)) return lex_error();
        toks_.push_back({T::relation, std::string(1, c)});
        ++i;
        continue;
      }
      static const std::pair<char, T> kSingle[] = {
          {'+', T::plus},      {'-', T::minus},    {'*', T::mul},      {'/', T::div},        {':', T::colon},
          {'(', T::lparen},    {')', T::rparen},   {'{', T::lbrace},   {'}', T::rbrace},     {'[', T::lbracket},
          {']', T::rbracket},  {'|', T::bar},      {'^', T::caret},    {'_', T::underscore}, {'!', T::bang},
          {',', T::comma},     {'.', T::dot}};
      bool found = false;
      for (const auto& [ch, kind] : kSingle)
        if (c == ch) {
          toks_.push_back({kind, std::string(1, c)});
          found = true;
          break;
        }
      if (!found) return lex_error();  // '%', '$', '#', ';', '?', non-ASCII, ...
      ++i;
    }
  }

  // The kind of token i. Reaching a position the lexer could not tokenize raises at once, as the
  // error listener does when the lexer hits it (never undone by a loop decision).
  T kind_at(std::size_t i) const {
    if (i >= toks_.size()) return T::end;
    if (toks_[i].kind == T::lex_error) throw LatexFatal{};
    return toks_[i].kind;
  }
  bool at(T k) const { return kind_at(pos_) == k; }
  bool eat(T k) {
    if (!at(k)) return false;
    ++pos_;
    return true;
  }
  void expect(T k) {
    if (!eat(k)) throw LatexError{};
  }
  [[noreturn]] void gap(const std::string& why) { throw PortGap{why}; }

  // A loop decision of the ANTLR parser: `math` does not require EOF, so adaptive prediction
  // takes another iteration only when it parses; otherwise the loop ends and the rest of the
  // input is ignored ("2 \cdot \sqrt(3){5}" is 2). `step` parses one more iteration.
  template <typename Step>
  bool another(Step step) {
    const std::size_t save = pos_;
    try {
      return step();
    } catch (const LatexError&) {
      pos_ = save;
      return false;
    }
  }

  Expr relation() {
    Expr e = expr();
    if (at(T::relation) && another([&] {
          ++pos_;
          (void)expr();
          return true;
        }))
      gap("relation in parse_latex");
    return e;
  }
  Expr expr() {  // additive: mp ((+|-) mp)*
    Expr v = mp();
    while (another([&] {
      if (!at(T::plus) && !at(T::minus)) return false;
      const bool minus = toks_[pos_++].kind == T::minus;
      Expr rhs = mp();
      v = add(v, minus ? negate(rhs) : rhs);
      return true;
    })) {
    }
    return v;
  }
  Expr mp() {  // unary ((*|\times|\cdot|/|\div) unary)*
    Expr v = unary();
    while (another([&] {
      if (at(T::colon)) gap("':' in parse_latex");
      const bool times = at(T::mul) || at(T::cmd_times) || at(T::cmd_cdot);
      const bool div = at(T::div) || at(T::cmd_div);
      if (!times && !div) return false;
      ++pos_;
      Expr rhs = unary();
      v = times ? mul(v, rhs, true) : divide(v, rhs, true);
      return true;
    })) {
    }
    return v;
  }
  bool starts_postfix() const {
    switch (kind_at(pos_)) {
      case T::digit: case T::letter: case T::symbol: case T::differential: case T::lparen: case T::lbrace:
      case T::lbrace_lit: case T::lbracket: case T::bar: case T::frac: case T::binom: case T::sqrt:
      case T::unsupported:
        return true;
      default:
        return false;
    }
  }
  Expr unary() {  // (+|-) unary | postfix+
    if (eat(T::minus)) return negate(unary());
    if (eat(T::plus)) return unary();
    if (!starts_postfix()) throw LatexError{};
    Expr v = postfix();
    while (another([&] {  // juxtaposition multiplies
      if (!starts_postfix()) return false;
      v = mul(v, postfix(), true);
      return true;
    })) {
    }
    return v;
  }
  Expr postfix() {
    Expr v = exp();
    while (true) {
      if (eat(T::bang)) v = factorial(v, 1);
      else if (at(T::bar)) gap("evaluation bar in parse_latex");
      else return v;
    }
  }
  Expr exp() {  // exp CARET (atom | {expr}) : left-associative
    Expr v = comp();
    while (another([&] {
      if (!eat(T::caret)) return false;
      Expr e;
      if (eat(T::lbrace)) {
        e = expr();
        expect(T::rbrace);
      } else {
        e = atom();
      }
      if (at(T::underscore)) gap("subscript after a power");
      v = power(v, e, true);
      return true;
    })) {
    }
    return v;
  }
  Expr comp() {
    if (at(T::lparen) || at(T::lbracket) || at(T::lbrace) || at(T::lbrace_lit)) {
      const T open = toks_[pos_++].kind;
      Expr v = expr();
      expect(open == T::lparen ? T::rparen : open == T::lbracket ? T::rbracket : open == T::lbrace ? T::rbrace : T::rbrace_lit);
      return v;
    }
    if (at(T::bar)) gap("|x| in parse_latex");
    if (at(T::unsupported)) gap("\\" + toks_[pos_].text + " in parse_latex");
    if (eat(T::sqrt)) {
      std::optional<Expr> index;
      if (eat(T::lbracket)) {
        index = expr();
        expect(T::rbracket);
      }
      expect(T::lbrace);
      Expr base = expr();
      expect(T::rbrace);
      // sympy: sqrt(base) or root(base, index)
      Expr e = index ? power(*index, integer(-1), true) : number(rational({1, 2}));
      return power(base, e, true);
    }
    if ((at(T::letter) || at(T::symbol)) && kind_at(pos_ + 1) == T::lparen)
      gap("function application f(x) in parse_latex");
    return atom();
  }
  Expr atom() {
    if (at(T::digit)) return number_rule();
    if (at(T::letter) || at(T::symbol)) {
      const Tok t = toks_[pos_++];
      if (at(T::underscore) || at(T::quotes)) gap("subscripted or primed symbol in parse_latex");
      const std::string& name = t.text;
      if (t.kind == T::symbol && name == "infty") return nonfinite("oo");
      if (name == "pi") return atom_expr({Atom::pi, 0, {}});
      if (name == "e") return atom_expr({Atom::e, 0, {}});
      if (name == "i" || name == "I") return imaginary_unit();  // latex2sympy_fixed: 1j
      return atom_expr({Atom::symbol, 0, name});
    }
    if (at(T::differential)) return atom_expr({Atom::symbol, 0, toks_[pos_++].text});
    if (eat(T::frac)) {
      Expr a = frac_argument(), b = frac_argument();
      return divide(a, b, true);
    }
    if (eat(T::binom)) {
      expect(T::lbrace);
      Expr n = expr();
      expect(T::rbrace);
      expect(T::lbrace);
      Expr k = expr();
      expect(T::rbrace);
      return binomial(n, k);
    }
    if (at(T::unsupported)) gap("\\" + toks_[pos_].text + " in parse_latex");
    throw LatexError{};
  }
  Expr frac_argument() {
    if (at(T::digit)) return integer(toks_[pos_++].text[0] - '0');
    expect(T::lbrace);
    Expr v = expr();
    expect(T::rbrace);
    return v;
  }
  // number: DIGIT+ (',' DIGIT DIGIT DIGIT)* ('.' DIGIT+)?, then sympy.Number(text without ','):
  // an integer with a leading zero ("042") is not a Python literal and raises.
  Expr number_rule() {
    std::string text;
    while (at(T::digit)) text += toks_[pos_++].text;
    while (at(T::comma) && kind_at(pos_ + 1) == T::digit && kind_at(pos_ + 2) == T::digit &&
           kind_at(pos_ + 3) == T::digit) {
      text += toks_[pos_ + 1].text + toks_[pos_ + 2].text + toks_[pos_ + 3].text;
      pos_ += 4;
    }
    if (at(T::dot) && kind_at(pos_ + 1) == T::digit) {
      ++pos_;
      text += '.';
      while (at(T::digit)) text += toks_[pos_++].text;
      return number(floating(std::strtod(text.c_str(), nullptr)));
    }
    // sympy.Number("042") raises while converting the finished parse tree: no loop undoes it
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) throw LatexFatal{};
    i128 v = 0;
    try {
      for (char c : text) v = checked_add(checked_mul(v, 10), c - '0');
    } catch (const Overflow&) {
      Expr big;
      big.kind = Expr::Kind::big_rational;
      big.approx = std::strtold(text.c_str(), nullptr);
      return big;
    }
    return integer(v);
  }

  std::vector<Tok> toks_;
  std::size_t pos_ = 0;
};

// ---- ParsePrimitive's result -------------------------------------------------------------------

// What ParsePrimitive returns once int() and float() failed.
struct Outcome {
  enum class Kind {
    none,         // parse_latex raised: ParsePrimitive returns None
    integer,      // an int / sympy Integer (value) or beyond 127 bits (big, approx)
    rational,     // a non-integer sympy Rational
    floating,     // a Python float or a sympy Float
    other,        // any other SymPy object or a Python complex: never equal to an integer gold,
                  // except a real or complex number within 1e-10 (numeric holds its value)
    gap,          // outside this port
    list,         // a Python list (sympify of "[...]")
  };
  Kind kind = Kind::none;
  std::vector<Outcome> items;
  i128 num = 0, den = 1;
  bool big = false;
  long double value = 0;
  std::optional<std::complex<long double>> numeric;
  std::string why;  // gap
  std::string str;  // str() of a zoo/oo/nan (AnswerList drops elements whose str() has no digit)
};

inline Outcome classify(const Expr& e, bool latex_path) {
  Outcome o;
  switch (e.kind) {
    case Expr::Kind::gap:
      o.kind = Outcome::Kind::gap;
      o.why = e.text;
      return o;
    case Expr::Kind::nonfinite:
      o.kind = Outcome::Kind::other;
      o.str = e.text;
      if (latex_path && e.text == "oo") o.numeric = std::complex<long double>(INFINITY, 0);  // complex(N(oo))
      if (latex_path && e.text == "nan") o.kind = Outcome::Kind::gap, o.why = "nan from parse_latex (a float nan)";
      return o;
    case Expr::Kind::big_rational:
      o.kind = e.integral ? Outcome::Kind::integer : Outcome::Kind::rational;
      o.big = true;
      o.value = e.approx.real();
      return o;
    case Expr::Kind::list:
      o.kind = Outcome::Kind::list;
      for (const Expr& item : e.items) o.items.push_back(classify(item, latex_path));
      return o;
    case Expr::Kind::opaque:
    case Expr::Kind::sum:
      break;
  }
  if (e.kind == Expr::Kind::sum && is_number(e)) {
    const Coef c = number_of(e);
    if (c.is_float) {
      o.kind = Outcome::Kind::floating;
      o.value = c.f;
    } else if (c.q.is_integer()) {
      o.kind = Outcome::Kind::integer;
      o.num = c.q.num;
      o.value = c.q.ld();
    } else {
      o.kind = Outcome::Kind::rational;
      o.num = c.q.num;
      o.den = c.q.den;
      o.value = c.q.ld();
    }
    return o;
  }
  o.kind = Outcome::Kind::other;
  if (e.has_symbols) return o;
  const std::complex<long double> v = approximate(e);
  // parse_latex path: float(N(v)) for a real value, complex(N(v)) otherwise.
  if (latex_path && v.imag() == 0 && std::isfinite(v.real())) {
    if (std::fabs(v.real()) > std::numeric_limits<double>::max()) {
      // float() overflows to inf: ParsePrimitive then returns int(N(value, 50001))
      o.kind = Outcome::Kind::integer;
      o.big = true;
      o.value = v.real();
      return o;
    }
    o.kind = Outcome::Kind::floating;
    o.value = static_cast<double>(v.real());
    return o;
  }
  o.numeric = v;
  return o;
}

// ParsePrimitive.parse from the "Expression" comment on.
inline Outcome parse_expression(const std::string& input) {
  const std::string string = digit_argument_braces(input);
  try {
    const std::string latex_str = rewrite_for_sympify(string);
    if (latex_str == "None") {  // Symbol("None")
      Outcome o;
      o.kind = Outcome::Kind::other;
      return o;
    }
    return classify(SympifyParser(latex_str).parse(), false);
  } catch (const PortGap& g) {
    Outcome o;
    o.kind = Outcome::Kind::gap;
    o.why = "sympify: " + g.why;
    return o;
  } catch (const SympifyFailed&) {
  }
  // latex2sympy_fixed(string after its last '='), then simplify().
  std::string no_eq = string;
  if (const auto eq = no_eq.rfind('='); eq != std::string::npos) no_eq.erase(0, eq + 1);
  // re.sub(r"_([0-9]+)", r"_{\1}")
  no_eq = substitute(no_eq, [](const std::string& t, std::size_t i) -> MatchResult {
    if (t[i] != '_') return std::nullopt;
    std::size_t k = i + 1;
    while (k < t.size() && ascii_digit(t[k])) ++k;
    if (k == i + 1) return std::nullopt;
    return std::make_pair(k, "_{" + t.substr(i + 1, k - i - 1) + "}");
  });
  try {
    return classify(LatexParser(no_eq).parse(), true);
  } catch (const LatexError&) {
    return Outcome{};  // None
  } catch (const LatexFatal&) {
    return Outcome{};
  } catch (const PortGap& g) {
    Outcome o;
    o.kind = Outcome::Kind::gap;
    o.why = "parse_latex: " + g.why;
    return o;
  }
}

}  // namespace gemma4::eval::aime::sympy_path
