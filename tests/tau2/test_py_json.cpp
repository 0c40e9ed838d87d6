// Python-compatible JSON text, rounding, repr and hashing. Expected strings were produced by
// CPython 3.11 (json.dumps, repr, round, hashlib.sha256).
#include <doctest/doctest.h>

#include "tau2/calculator.h"
#include "tau2/json.h"

using namespace gemma4::eval::tau2;
namespace py = gemma4::eval::py;

TEST_CASE("float repr matches Python") {
  const std::pair<double, const char*> cases[] = {
      {0.1, "0.1"}, {1e16, "1e+16"}, {1e-5, "1e-05"}, {123456789.125, "123456789.125"}, {100.0, "100.0"},
      {-0.5, "-0.5"}, {1.0 / 3, "0.3333333333333333"}, {2.5e-7, "2.5e-07"}, {1e22, "1e+22"},
      {12345678901234567.0, "1.2345678901234568e+16"}, {0.0001, "0.0001"}};
  for (const auto& [v, expected] : cases) CHECK(py::float_repr(v) == expected);
}

TEST_CASE("round(x, 2) matches Python") {
  const std::pair<double, double> cases[] = {{2.675, 2.67}, {0.125, 0.12}, {0.375, 0.38}, {1.005, 1.0},
                                             {-2.675, -2.67}, {2.5, 2.5}, {1234.565, 1234.57}};
  for (const auto& [v, expected] : cases) CHECK(py::round2(v) == expected);
}

TEST_CASE("json.dumps text, ensure_ascii and separators") {
  Json j = Json::object();
  j["a"] = "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\x7f\x01\"\\\n";
  j["b"] = Json::array({1, 2.0, true, nullptr});
  CHECK(py::dumps(j) == R"({"a": "\u00e9\u2028\ud83d\ude00\u007f\u0001\"\\\n", "b": [1, 2.0, true, null]})");
}

TEST_CASE("sha256 of sorted json.dumps matches hashlib") {
  Json j = Json::object();
  j["b"] = 1;
  j["a"] = Json::array({1.5, "x"});
  CHECK(sha256_hex(py::dumps(j, true)) == "96cd3441b2bbfcba44d3527c64ea37eaf1e07aa1bb5fb5aa3e4be728b19ea89c");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("repr of a list of str") {
  CHECK(py::repr(std::vector<std::string>{"it's", "say \"hi\"", "both ' \"", "tab\there", "\xc3\xa9"}) ==
        "[\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\there', '\xc3\xa9']");
}

TEST_CASE("python equality on decoded JSON") {
  CHECK(py::equal(Json::parse("{\"a\": 1, \"b\": [true]}"), Json::parse("{\"b\": [1.0], \"a\": 1.0}")));
  CHECK_FALSE(py::equal(Json::parse("{\"a\": 1}"), Json::parse("{\"a\": \"1\"}")));
  CHECK_FALSE(py::equal(Json::parse("{\"a\": null}"), Json::parse("{}")));
}

TEST_CASE("field titles") {
  CHECK(field_title("user_id") == "User Id");
  CHECK(field_title("address1") == "Address1");
  CHECK(field_title("nonfree_baggages") == "Nonfree Baggages");
}

TEST_CASE("calculate follows Python arithmetic") {
  // str(round(float(eval(e)), 2)), checked against CPython.
  const std::pair<const char*, const char*> cases[] = {
      {"2 + 2", "4.0"}, {"10 / 4", "2.5"}, {"-2**2", "-4.0"}, {"2**-1", "0.5"}, {"7 // 2", "3.0"}, {"-7 // 2", "-4.0"},
      {"(1.005 + 0)", "1.0"}, {"100 * 1.1", "110.0"}, {"3 * (4 - 1.5) / 2", "3.75"}, {".5 + 1.", "1.5"},
      {"2 ** 3 ** 2", "512.0"}, {"1/3", "0.33"}, {"  42  ", "42.0"}};
  for (const auto& [e, expected] : cases) CHECK_MESSAGE(PythonArithmetic::calculate(e) == expected, e);
  CHECK_THROWS_WITH_AS(PythonArithmetic::calculate("1 / 0"), "division by zero", ToolError);
  CHECK_THROWS_WITH_AS(PythonArithmetic::calculate("2 + x"), "Invalid characters in expression", ToolError);
  CHECK_THROWS_AS(PythonArithmetic::calculate("2 +"), ToolError);
  CHECK_THROWS_AS(PythonArithmetic::calculate("()"), ToolError);
  CHECK_THROWS_AS(PythonArithmetic::calculate("1 2"), ToolError);
}
