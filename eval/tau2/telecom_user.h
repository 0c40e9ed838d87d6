// The telecom user's phone (tau2 user_tools.py) and the telecom environment (environment.py).
// Included by telecom.h.
#pragma once

#include "tau2/telecom.h"

namespace gemma4::eval::tau2::telecom {

// The class-level default VPN profile of TelecomUserTools is a single shared object; break_vpn
// mutates it, which every later connection of the process then sees (see telecom.h).
inline std::atomic<bool>& default_vpn_is_poor() {
  static std::atomic<bool> poor{false};
  return poor;
}

class TelecomUserTools : public ToolKit {
 public:
  explicit TelecomUserTools(const Json& raw_db, const std::string& source = "telecom user db")
      : ToolKit("TelecomUserTools", model::user_db(), validate_db(*model::user_db(), raw_db, source)) {
    register_tools();
  }

  Json& device() { return db_["device"]; }
  Json& surroundings() { return db_["surroundings"]; }

  // ---- simulation core ----
  void simulate_network_search() {
    Json& d = device();
    const std::string sim = sim_status();
    auto set = [&](const char* status, const Json& tech, const Json& signal) {
      d["network_connection_status"] = status;
      d["network_technology_connected"] = tech;
      d["network_signal_strength"] = signal;
    };
    auto signal_of = [&](const char* tech) -> Json {
      const Json& s = surroundings()["signal_strength"];
      return s.contains(tech) ? s[tech] : Json("none");
    };
    if (sim == "active") {
      d["network_connection_status"] = "connected";
      const Json& pref = d["network_mode_preference"];
      if (pref == "4g_5g_preferred") {
        const Json five = signal_of("5G");
        if (five == "none") set("connected", "4G", signal_of("4G"));
        else set("connected", "5G", five);
      } else if (pref == "4g_only") {
        set("connected", "4G", signal_of("4G"));
      } else if (pref == "3g_only") {
        set("connected", "3G", signal_of("3G"));
      } else if (pref == "2g_only") {
        set("connected", "2G", signal_of("2G"));
      } else {
        set("connected", "4G", signal_of("4G"));
      }
    } else {
      set("no_service", "none", "none");
    }
    if (pyops::truthy(d["airplane_mode"])) set("no_service", "none", "none");
    if (d["active_apn_settings"]["apn_name"] == "broken") set("no_service", "none", "none");
    if (!pyops::truthy(surroundings()["line_active"])) set("no_service", "none", "none");
  }

  std::string sim_status() {
    if (pyops::truthy(device()["sim_card_missing"])) return "missing";
    return device()["sim_card_status"].get<std::string>();
  }

  bool mobile_data_working() {
    Json& d = device();
    if (pyops::truthy(d["airplane_mode"]) || d["network_signal_strength"] == "none") return false;
    if (d["network_connection_status"] == "no_service") return false;
    if (pyops::truthy(surroundings()["is_abroad"]))
      if (!pyops::truthy(d["roaming_enabled"]) || !pyops::truthy(surroundings()["roaming_allowed"])) return false;
    if (!pyops::truthy(d["data_enabled"])) return false;
    if (pyops::truthy(surroundings()["mobile_data_usage_exceeded"])) return false;
    return true;
  }

  // (speed in Mbps or none, description)
  std::pair<std::optional<double>, std::string> speed_test() {
    if (!mobile_data_working()) return {std::nullopt, "No Connection"};
    Json& d = device();
    double base = 1.0;
    if (pyops::truthy(d["vpn_connected"]) && d["vpn_details"].is_object() && d["vpn_details"]["server_performance"] == "poor") base = 0.1;
    if (pyops::truthy(d["data_saver_mode"])) base *= 0.2;
    double lo = 0.0, hi = 0.0;
    const Json& tech = d["network_technology_connected"];
    if (tech == "2G") { lo = 0.1; hi = 0.4; }
    else if (tech == "3G") { lo = 1.0; hi = 5.0; }
    else if (tech == "4G") { lo = 10.0; hi = 100.0; }
    else if (tech == "5G") { lo = 50.0; hi = 500.0; }
    double signal = 0.0;
    const Json& s = d["network_signal_strength"];
    if (s == "poor") signal = 0.2;
    else if (s == "fair") signal = 0.5;
    else if (s == "good") signal = 0.8;
    else if (s == "excellent") signal = 1.0;
    const double speed = py::round2((lo + hi) / 2.0 * signal * base);
    const char* desc = speed < 1 ? "Very Poor" : speed < 5 ? "Poor" : speed < 25 ? "Fair" : speed < 100 ? "Good" : "Excellent";
    return {speed, desc};
  }

  bool can_send_mms() {
    Json& d = device();
    if (!mobile_data_working()) return false;
    if (d["network_technology_connected"] == "2G") return false;
    if (pyops::truthy(d["wifi_calling_enabled"]) && pyops::truthy(d["wifi_calling_mms_over_wifi"])) return false;
    if (d["active_apn_settings"]["mmsc_url"].is_null()) return false;
    if (!d["app_statuses"].contains("messaging")) return false;
    const Json& perms = d["app_statuses"]["messaging"]["permissions"];
    return pyops::truthy(perms["storage"]) && pyops::truthy(perms["sms"]);
  }

  std::string status_bar() {
    Json& d = device();
    std::vector<std::string> parts;
    if (pyops::truthy(d["airplane_mode"])) {
      parts.push_back("\u2708\ufe0f Airplane Mode");
    } else {
      const Json& s = d["network_signal_strength"];
      if (s == "poor") parts.push_back("\U0001F4F6\u00b9 Poor");
      else if (s == "fair") parts.push_back("\U0001F4F6\u00b2 Fair");
      else if (s == "good") parts.push_back("\U0001F4F6\u00b3 Good");
      else if (s == "excellent") parts.push_back("\U0001F4F6\u2074 Excellent");
      else parts.push_back("\U0001F4F5 No Signal");
      const Json& tech = d["network_technology_connected"];
      if (tech != "none") parts.push_back(py_str(tech));
      if (pyops::truthy(d["data_enabled"]) && tech != "none") {
        parts.push_back("\U0001F4F1 Data Enabled");
        if (pyops::truthy(d["data_saver_mode"])) parts.push_back("\U0001F53D Data Saver");
      } else {
        parts.push_back("\U0001F4F5 Data Disabled");
      }
    }
    if (pyops::truthy(d["wifi_enabled"]) && pyops::truthy(d["wifi_connected"])) {
      if (pyops::truthy(d["wifi_ssid"])) parts.push_back("\U0001F4E1 Connected to " + py_str(d["wifi_ssid"]));
      else parts.push_back("\U0001F4E1 Enabled");
    }
    if (pyops::truthy(d["vpn_connected"])) parts.push_back("\U0001F512 VPN Connected");
    parts.push_back("\U0001F50B " + py_str(d["battery_level"]) + "%");
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
    return out;
  }
  std::string with_bar(const std::string& s) { return s + "\nStatus Bar: " + status_bar(); }

  bool toggle_airplane() {
    Json& d = device();
    const bool was_on = pyops::truthy(d["airplane_mode"]);
    d["airplane_mode"] = !was_on;
    if (was_on) {
      d["network_connection_status"] = "searching";
      if (pyops::truthy(d["wifi_enabled"])) {
        d["wifi_connected"] = false;
        d["wifi_ssid"] = nullptr;
        d["wifi_signal_strength"] = "none";
      }
    } else {
      d["wifi_connected"] = false;
      d["wifi_ssid"] = nullptr;
      d["wifi_signal_strength"] = "none";
      if (pyops::truthy(d["vpn_connected"])) disconnect_vpn();
    }
    simulate_network_search();
    return d["airplane_mode"].get<bool>();
  }
  bool toggle_flag(const char* key, bool search) {
    const bool v = !pyops::truthy(device()[key]);
    device()[key] = v;
    if (search) simulate_network_search();
    return v;
  }
  std::optional<bool> connect_vpn() {
    Json& d = device();
    if (pyops::truthy(d["vpn_connected"])) return std::nullopt;
    d["vpn_connected"] = true;
    d["vpn_details"] = Json{{"server_address", "192.168.1.1"}, {"protocol", "OpenVPN"},
                            {"server_performance", default_vpn_is_poor() ? "poor" : "excellent"}};
    return true;
  }
  bool disconnect_vpn() {
    Json& d = device();
    if (!pyops::truthy(d["vpn_connected"])) return false;
    d["vpn_connected"] = false;
    d["vpn_details"] = nullptr;
    return true;
  }
  Json* app(const Json& name) {
    Json& apps = device()["app_statuses"];
    if (name.is_array() || name.is_object()) throw ToolError("unhashable type: '" + py::type_name(name) + "'");
    if (!name.is_string() || !apps.contains(name.get<std::string>())) return nullptr;
    return &apps[name.get<std::string>()];
  }
  static std::vector<std::string> granted(const Json& permissions) {
    std::vector<std::string> out;
    for (auto it = permissions.begin(); it != permissions.end(); ++it)
      if (pyops::truthy(*it)) {
        std::string n = it.key();
        for (auto& c : n) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.push_back(n);
      }
    return out;
  }

  Json call_env_function(const std::string& name, const Json& args) override;

 private:
  using P = ToolParam;
  void register_tools();
};

inline void TelecomUserTools::register_tools() {
  auto tool = [](const char* name, const char* desc, ToolType type, std::vector<P> params = {}) {
    Tool t;
    t.name = name;
    t.description = desc;
    t.params = std::move(params);
    t.type = type;
    t.mutates_state = type == ToolType::Write;
    return t;
  };
  add(tool("check_status_bar",
           "Shows what icons are currently visible in your phone's status bar (the area at the top of the screen). Displays network "
           "signal strength, mobile data status (enabled, disabled, data saver), Wi-Fi status, and battery level.",
           ToolType::Read),
      [this](const Kwargs&) -> Json { return Json("Status Bar: " + status_bar()); });
  add(tool("check_network_status",
           "Checks your phone's connection status to cellular networks and Wi-Fi. Shows airplane mode status, signal strength, "
           "network type, whether mobile data is enabled, and whether data roaming is enabled.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        Json& d = device();
        std::string s = std::string("Airplane Mode: ") + (pyops::truthy(d["airplane_mode"]) ? "ON" : "OFF") +
                        "\nSIM Card Status: " + sim_status() + "\nCellular Connection: " + py_str(d["network_connection_status"]) +
                        "\nCellular Signal: " + py_str(d["network_signal_strength"]) +
                        "\nCellular Network Type: " + py_str(d["network_technology_connected"]) +
                        "\nMobile Data Enabled: " + (pyops::truthy(d["data_enabled"]) ? "Yes" : "No") +
                        "\nData Roaming Enabled: " + (pyops::truthy(d["roaming_enabled"]) ? "Yes" : "No") +
                        "\nWi-Fi Radio: " + (pyops::truthy(d["wifi_enabled"]) ? "ON" : "OFF") +
                        "\nWi-Fi Connected: " + (pyops::truthy(d["wifi_connected"]) ? "Yes" : "No");
        if (pyops::truthy(d["wifi_connected"])) s += "\nConnected Wi-Fi Network: " + py_str(d["wifi_ssid"]);
        return Json(s);
      });
  add(tool("check_network_mode_preference", "Shows the current network mode preference.", ToolType::Read),
      [this](const Kwargs&) -> Json { return Json("Network Mode Preference: " + py_str(device()["network_mode_preference"])); });
  {
    Tool t = tool("set_network_mode_preference",
                  "Changes the type of cellular network your phone prefers to connect to (e.g., 5G, LTE/4G, 3G). Higher-speed networks "
                  "(LTE/5G) provide faster data but may use more battery.",
                  ToolType::Write);
    t.params = {P{"mode", Json{{"anyOf", Json::array({Json{{"$ref", "#/$defs/NetworkModePreference"}}, Json{{"type", "string"}}})}}, ""}};
    t.defs = Json{{"NetworkModePreference", Json{{"enum", Json::array({"4g_5g_preferred", "4g_only", "3g_only", "2g_only"})},
                                                 {"title", "NetworkModePreference"}, {"type", "string"}}}};
    add(std::move(t), [this](const Kwargs& a) -> Json {
      const Json& mode = a["mode"];
      if (mode.is_string()) {
        const std::string m = mode.get<std::string>();
        if (m != "4g_5g_preferred" && m != "4g_only" && m != "3g_only" && m != "2g_only")
          return Json(with_bar("Failed to set network mode: '" + m +
                               "' is not a valid option. Please use one of: 4g_5g_preferred, 4g_only, 3g_only, 2g_only"));
        device()["network_mode_preference"] = m;
        simulate_network_search();
        return Json(with_bar("Preferred Network Mode set to: " + m));
      }
      // A non-string is stored as is, then `.value` fails (state already changed, as officially).
      device()["network_mode_preference"] = mode;
      simulate_network_search();
      throw ToolError("'" + py::type_name(mode) + "' object has no attribute 'value'");
    });
  }
  add(tool("run_speed_test",
           "Measures your current internet connection speed (download speed). Provides information about connection quality and "
           "what activities it can support.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        auto [speed, desc] = speed_test();
        if (!speed) return Json("Speed test failed: " + desc + ".");
        std::string advice;
        if (desc == "Very Poor") advice = "Connection is very slow. Basic web browsing might be difficult.";
        else if (desc == "Poor") advice = "Connection is slow. Web browsing may be sluggish, streaming difficult.";
        else if (desc == "Fair") advice = "Connection is okay for web browsing and some standard definition streaming.";
        else if (desc == "Good") advice = "Connection is good for most activities, including HD streaming.";
        else if (desc == "Excellent") advice = "Connection is very fast.";
        return Json("Speed Test Result: " + fixed2(*speed) + " Mbps (" + desc + "). " + advice);
      });
  add(tool("toggle_airplane_mode",
           "Toggles Airplane Mode ON or OFF. When ON, it disconnects all wireless communications including cellular, Wi-Fi, and "
           "Bluetooth.\n\nReturns the new state of airplane_mode.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        const bool on = toggle_airplane();
        return Json(with_bar(std::string("Airplane Mode is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("check_sim_status",
           "Checks if your SIM card is working correctly and displays its current status. Shows if the SIM is active, missing, or "
           "locked with a PIN or PUK code.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        const std::string s = sim_status();
        if (s == "active") return Json("Your SIM card is active and working.");
        if (s == "missing") return Json("No SIM card detected in the phone.");
        if (s == "locked_pin") return Json("The SIM card is locked with a PIN code.");
        if (s == "locked_puk") return Json("The SIM card is locked with a PUK code.");
        return Json("Unknown SIM status: " + s);
      });
  add(tool("reseat_sim_card", "Simulates removing and reinserting your SIM card. This can help resolve recognition issues.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        device()["sim_card_missing"] = false;
        simulate_network_search();
        return Json(with_bar("SIM card re-seated successfully."));
      });
  add(tool("toggle_data",
           "Toggles your phone's mobile data connection ON or OFF. Controls whether your phone can use cellular data for internet "
           "access when Wi-Fi is unavailable.\n\nReturns the new data connection status.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        const bool on = toggle_flag("data_enabled", true);
        return Json(with_bar(std::string("Mobile Data is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("toggle_roaming",
           "Toggles Data Roaming ON or OFF. When ON, your phone can use data networks in areas outside your carrier's coverage.\n\n"
           "Returns the new data roaming status.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        const bool on = toggle_flag("roaming_enabled", true);
        return Json(with_bar(std::string("Data Roaming is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("check_data_restriction_status",
           "Checks if your phone has any data-limiting features active. Shows if Data Saver mode is on.", ToolType::Read),
      [this](const Kwargs&) -> Json {
        return Json(pyops::truthy(device()["data_saver_mode"]) ? "Data Saver mode is ON (limits data usage)." : "Data Saver mode is OFF.");
      });
  add(tool("toggle_data_saver_mode",
           "Toggles Data Saver mode ON or OFF. When ON, it reduces data usage, which may affect data speed.\n\nReturns the new data "
           "saver mode status.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        const bool on = toggle_flag("data_saver_mode", false);
        return Json(with_bar(std::string("Data Saver Mode is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("check_apn_settings",
           "Checks the technical APN settings your phone uses to connect to your carrier's mobile data network. Shows current APN "
           "name and MMSC URL for picture messaging.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        const Json& apn = device()["active_apn_settings"];
        const std::string name = pyops::truthy(apn["apn_name"]) ? py_str(apn["apn_name"]) : "Not Set";
        const std::string url = pyops::truthy(apn["mmsc_url"]) ? py_str(apn["mmsc_url"]) : "Not Set";
        return Json("Current APN Name: " + name + "\nMMSC URL (for picture messages): " + url +
                    "\n(These are technical settings, usually best left unchanged.)");
      });
  {
    Tool t = tool("set_apn_settings", "Sets the APN settings for the phone.", ToolType::Write);
    t.params = {P{"apn_settings",
                  Json{{"anyOf", Json::array({Json{{"$ref", "#/$defs/APNSettings"}}, Json{{"additionalProperties", true}, {"type", "object"}}})}},
                  ""}};
    t.defs = Json::parse(R"({"APNNames": {"enum": ["internet", "broken"], "title": "APNNames", "type": "string"},
      "APNSettings": {"additionalProperties": false,
        "description": "Represents the configuration for a single Access Point Name (APN).",
        "properties": {
          "apn_name": {"$ref": "#/$defs/APNNames", "default": "internet", "description": "The name identifier for the APN connection."},
          "reset_at_reboot": {"default": false, "description": "Whether the APN settings will be reset at the next reboot.", "title": "Reset At Reboot", "type": "boolean"},
          "mms_apn": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "mms", "description": "Specific APN name used for MMS traffic, if different from general data.", "title": "Mms Apn"},
          "mmsc_url": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": "http://mms.carrier.com/mms/wapenc", "description": "The URL of the Multimedia Messaging Service Center (MMSC). Crucial for MMS.", "title": "Mmsc Url"},
          "mms_proxy": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "description": "The proxy server address required for MMS traffic on some networks.", "title": "Mms Proxy"},
          "mms_port": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "description": "The proxy server port required for MMS traffic on some networks.", "title": "Mms Port"}},
        "title": "APNSettings", "type": "object"}})");
    add(std::move(t), [this](const Kwargs& a) -> Json {
      const Json& s = a["apn_settings"];
      if (!s.is_object()) throw ToolError("'" + py::type_name(s) + "' object has no attribute 'apn_name'");
      const Json apn = validate(*model::apn_settings(), s);
      device()["active_apn_settings"] = apn;
      const std::string update = "APN settings set to: " + py_str(apn["apn_name"]);
      simulate_network_search();
      return Json(with_bar(update));
    });
  }
  add(tool("reset_apn_settings", "Resets your APN settings to the default settings.", ToolType::Write), [this](const Kwargs&) -> Json {
    device()["active_apn_settings"]["reset_at_reboot"] = true;
    simulate_network_search();
    return Json(with_bar("APN settings will reset at reboot."));
  });
  add(tool("check_wifi_status",
           "Checks your Wi-Fi connection status. Shows if Wi-Fi is turned on, which network you're connected to (if any), and the "
           "signal strength.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        Json& d = device();
        if (!pyops::truthy(d["wifi_enabled"])) return Json("Wi-Fi is turned OFF.");
        if (pyops::truthy(d["wifi_connected"]))
          return Json("Wi-Fi is ON and connected to '" + py_str(d["wifi_ssid"]) + "'. Signal strength: " + py_str(d["wifi_signal_strength"]) + ".");
        return Json("Wi-Fi is ON but not connected to any network.");
      });
  add(tool("toggle_wifi",
           "Toggles your phone's Wi-Fi radio ON or OFF. Controls whether your phone can discover and connect to wireless networks for "
           "internet access.\n\nReturns the new Wi-Fi status.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        Json& d = device();
        if (pyops::truthy(d["airplane_mode"])) return Json(with_bar("Cannot change Wi-Fi settings while Airplane Mode is ON."));
        const bool on = !pyops::truthy(d["wifi_enabled"]);
        d["wifi_enabled"] = on;
        if (!on) {
          d["wifi_connected"] = false;
          d["wifi_ssid"] = nullptr;
          d["wifi_signal_strength"] = "none";
        }
        return Json(with_bar(std::string("Wi-Fi is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("check_wifi_calling_status",
           "Checks if Wi-Fi Calling is enabled on your device. This feature allows you to make and receive calls over a Wi-Fi network "
           "instead of using the cellular network.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        return Json(std::string("Wi-Fi Calling is currently turned ") + (pyops::truthy(device()["wifi_calling_enabled"]) ? "ON" : "OFF") + ".");
      });
  add(tool("toggle_wifi_calling",
           "Toggles Wi-Fi Calling ON or OFF. This feature allows you to make and receive calls over Wi-Fi instead of the cellular "
           "network, which can help in areas with weak cellular signal.\n\nReturns the new Wi-Fi Calling status.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        const bool on = toggle_flag("wifi_calling_enabled", false);
        return Json(with_bar(std::string("Wi-Fi Calling is now ") + (on ? "ON" : "OFF") + "."));
      });
  add(tool("check_vpn_status",
           "Checks if you're using a VPN (Virtual Private Network) connection. Shows if a VPN is active, connected, and displays any "
           "available connection details.",
           ToolType::Read),
      [this](const Kwargs&) -> Json {
        Json& d = device();
        if (pyops::truthy(d["vpn_connected"])) {
          const Json& v = d["vpn_details"];
          if (v.is_object()) {
            // repr() of the dumped VpnDetails: the performance is an Enum member.
            auto r = [](const Json& x) { return x.is_string() ? py::repr(x.get<std::string>()) : std::string("None"); };
            std::string perf = py_str(v["server_performance"]);
            std::string member = perf;
            for (auto& c : member) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return Json("VPN is ON and connected. Details: {'server_address': " + r(v["server_address"]) + ", 'protocol': " +
                        r(v["protocol"]) + ", 'server_performance': <PerformanceLevel." + member + ": " + py::repr(perf) + ">}");
          }
          return Json("VPN is ON and connected (no specific details available).");
        }
        if (pyops::truthy(d["vpn_enabled_setting"])) return Json("VPN is turned ON in settings, but currently not connected.");
        return Json("VPN is turned OFF.");
      });
  add(tool("connect_vpn", "Connects to your VPN (Virtual Private Network).", ToolType::Write), [this](const Kwargs&) -> Json {
    const auto connected = connect_vpn();
    if (!connected) return Json("VPN already connected.");
    return Json(with_bar("VPN connected successfully."));
  });
  add(tool("disconnect_vpn",
           "Disconnects any active VPN (Virtual Private Network) connection. Stops routing your internet traffic through a VPN server, "
           "which might affect connection speed or access to content.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        return Json(with_bar(disconnect_vpn() ? "VPN disconnected successfully." : "No active VPN connection to disconnect."));
      });
  add(tool("check_installed_apps", "Returns the name of all installed apps on the phone.", ToolType::Read), [this](const Kwargs&) -> Json {
    std::string names;
    const Json& apps = device()["app_statuses"];
    for (auto it = apps.begin(); it != apps.end(); ++it) names += (names.empty() ? "" : ", ") + it.key();
    return Json("The following apps are installed on the phone: " + names);
  });
  add(tool("check_app_status",
           "Checks detailed information about a specific app. Shows its permissions and background data usage settings.", ToolType::Read,
           {P{"app_name", schema::string(), ""}}),
      [this](const Kwargs& a) -> Json {
        Json* st = app(a["app_name"]);
        if (st == nullptr) return Json("App '" + py_str(a["app_name"]) + "' not found on this phone.");
        std::string s = "Status for App: " + py_str(a["app_name"]);
        const auto perms = granted((*st)["permissions"]);
        if (perms.empty()) s += "\n - Permissions: None granted.";
        else {
          s += "\n - Permissions Granted:";
          for (const auto& p : perms) s += "\n   - " + p;
        }
        return Json(s);
      });
  add(tool("check_app_permissions",
           "Checks what permissions a specific app currently has. Shows if the app has access to features like storage, camera, "
           "location, etc.",
           ToolType::Read, {P{"app_name", schema::string(), ""}}),
      [this](const Kwargs& a) -> Json {
        Json* st = app(a["app_name"]);
        if (st == nullptr) return Json("App '" + py_str(a["app_name"]) + "' not found on this phone.");
        const auto perms = granted((*st)["permissions"]);
        if (perms.empty()) return Json("App '" + py_str(a["app_name"]) + "' currently has no permissions granted.");
        std::string list;
        for (const auto& p : perms) list += (list.empty() ? "" : ", ") + p;
        return Json("App '" + py_str(a["app_name"]) + "' has permission for: " + list + ".");
      });
  add(tool("grant_app_permission",
           "Gives a specific permission to an app (like access to storage, camera, or location). Required for some app functions to "
           "work properly.",
           ToolType::Write,
           {P{"app_name", schema::string(), "The name of the app to grant the permission to."},
            P{"permission", schema::string(), "The permission to grant, should be lowercase."}}),
      [this](const Kwargs& a) -> Json {
        Json* st = app(a["app_name"]);
        const std::string perm = pyops::lower(pyops::str(a["permission"], "lower"));
        std::string msg;
        bool ok = false;
        if (st != nullptr) {
          Json& perms = (*st)["permissions"];
          if (!perms.contains(perm)) {
            std::vector<std::string> keys;
            for (auto it = perms.begin(); it != perms.end(); ++it) keys.push_back(it.key());
            msg = "Permission '" + perm + "' not tracked for app '" + py_str(a["app_name"]) + "', available permissions: " + py::repr(keys);
          } else {
            perms[perm] = true;
            ok = true;
            msg = "Permission '" + perm + "' granted to app '" + py_str(a["app_name"]) + "'.";
          }
        } else {
          msg = "App '" + py_str(a["app_name"]) + "' not found. Cannot grant permission.";
        }
        return Json(with_bar((ok ? "Success. " : "Error. ") + msg));
      });
  add(tool("can_send_mms", "Checks if the default messaging app can send MMS messages.", ToolType::Read), [this](const Kwargs&) -> Json {
    return Json(can_send_mms() ? "Your messaging app can send MMS messages." : "Your messaging app cannot send MMS messages.");
  });
  add(tool("reboot_device",
           "Restarts your phone completely. This can help resolve many temporary software glitches by refreshing all running services "
           "and connections.",
           ToolType::Write),
      [this](const Kwargs&) -> Json {
        std::string lines;
        if (pyops::truthy(device()["active_apn_settings"]["reset_at_reboot"])) {
          lines = "Resetting APN settings...\n";
          device()["active_apn_settings"] = model::default_apn();
        }
        lines += "Restarting network services...";
        device()["network_connection_status"] = "searching";
        simulate_network_search();
        return Json(with_bar(lines));
      });
  add(tool("check_payment_request", "Checks if the agent has sent you a payment request.", ToolType::Read), [this](const Kwargs&) -> Json {
    const Json& pr = surroundings()["payment_request"];
    if (pr.is_null()) return Json("No payment request has been made.");
    return Json("You have a payment request for bill " + py_str(pr["bill_id"]) + " of " + py_str(pr["amount_due"]) + " USD.");
  });
  add(tool("make_payment", "Makes a payment for the bill that the agent has sent you.", ToolType::Write), [this](const Kwargs&) -> Json {
    Json& pr = surroundings()["payment_request"];
    if (pr.is_null()) return Json("You do not have a payment request.");
    pr["paid"] = true;
    return Json("Payment of " + py_str(pr["amount_due"]) + " USD has been made for bill " + py_str(pr["bill_id"]) + ".");
  });
}

// Scenario set-up functions and assertions (called by tasks, not by the user simulator).
inline Json TelecomUserTools::call_env_function(const std::string& name, const Json& args) {
  auto arg = [&](const char* key) -> const Json& {
    auto it = args.find(key);
    if (it == args.end()) throw ToolError("TelecomUserTools." + name + "() missing 1 required positional argument: '" + key + "'");
    return *it;
  };
  auto opt_arg = [&](const char* key) -> Json { return args.contains(key) ? args[key] : Json(nullptr); };
  Json& d = device();
  auto check = [](bool ok) {
    if (!ok) throw ToolError("AssertionError");
  };
  if (name == "set_user_info") {
    surroundings()["name"] = arg("name");
    surroundings()["phone_number"] = arg("phone_number");
    return nullptr;
  }
  if (name == "set_user_location") {
    surroundings()["is_abroad"] = arg("abroad");
    return nullptr;
  }
  if (name == "simulate_network_search") {
    simulate_network_search();
    return nullptr;
  }
  if (name == "turn_airplane_mode_on" || name == "turn_airplane_mode_off") {
    const bool want = name == "turn_airplane_mode_on";
    if (toggle_airplane() != want) toggle_airplane();
    return Json(std::string("Airplane Mode is now ") + (want ? "ON." : "OFF."));
  }
  if (name == "unseat_sim_card") {
    d["sim_card_missing"] = true;
    simulate_network_search();
    check(sim_status() == "missing");
    return Json("SIM card un-seated successfully.");
  }
  if (name == "lock_sim_card") {
    const Json& mode = arg("mode");
    if (mode == "pin") d["sim_card_status"] = "locked_pin";
    else if (mode == "puk") d["sim_card_status"] = "locked_puk";
    simulate_network_search();
    return Json("SIM card locked successfully in " + py_str(mode) + " mode.");
  }
  if (name == "turn_data_on") {
    d["data_enabled"] = true;  // no network search, as officially
    return Json("Data connection restored.");
  }
  if (name == "turn_data_off") {
    if (toggle_flag("data_enabled", true)) toggle_flag("data_enabled", true);
    return Json("Data connection broken.");
  }
  if (name == "turn_roaming_on" || name == "turn_roaming_off") {
    const bool want = name == "turn_roaming_on";
    if (toggle_flag("roaming_enabled", true) != want) toggle_flag("roaming_enabled", true);
    return Json(std::string("Data Roaming is now ") + (want ? "ON." : "OFF."));
  }
  if (name == "turn_data_saver_mode_on" || name == "turn_data_saver_mode_off") {
    const bool want = name == "turn_data_saver_mode_on";
    if (toggle_flag("data_saver_mode", false) != want) toggle_flag("data_saver_mode", false);
    return Json(std::string("Data Saver Mode is now ") + (want ? "ON." : "OFF."));
  }
  if (name == "break_apn_settings") {
    d["active_apn_settings"]["apn_name"] = "broken";
    simulate_network_search();
    check(d["network_connection_status"] == "no_service");
    return Json("APN settings broken. Please call reset_apn_settings() to fix.");
  }
  if (name == "break_apn_mms_setting") {
    d["active_apn_settings"]["mmsc_url"] = nullptr;
    check(!can_send_mms());
    return Json("APN MMS setting broken. Please call reset_apn_settings() to fix.");
  }
  if (name == "set_wifi_calling") {
    const Json& enabled = arg("enabled");
    if (!py::equal(d["wifi_calling_enabled"], enabled)) toggle_flag("wifi_calling_enabled", false);
    std::string msg = std::string("Wi-Fi Calling is now ") + (pyops::truthy(enabled) ? "ON" : "OFF") + ".";
    const Json mms = opt_arg("mms_over_wifi");
    if (!mms.is_null()) {
      d["wifi_calling_mms_over_wifi"] = mms;
      msg += std::string("\nMMS over Wi-Fi is now ") + (pyops::truthy(mms) ? "ON" : "OFF") + ".";
    }
    return Json(msg);
  }
  if (name == "break_vpn") {
    connect_vpn();
    default_vpn_is_poor() = true;
    d["vpn_details"]["server_performance"] = "poor";
    return Json("VPN connection broken.");
  }
  if (name == "remove_app_permission") {
    Json* st = app(arg("app_name"));
    const std::string perm = pyops::lower(pyops::str(arg("permission"), "lower"));
    // Returns a (bool, str) tuple: a plain container.
    if (st == nullptr)
      return py_process_plain(Json::array({false, "App '" + py_str(arg("app_name")) + "' not found. Cannot remove permission."}));
    if (!(*st)["permissions"].contains(perm))
      return py_process_plain(Json::array({false, "Permission '" + perm + "' not tracked for app '" + py_str(arg("app_name")) + "'."}));
    (*st)["permissions"][perm] = false;
    return py_process_plain(Json::array({true, "Permission '" + perm + "' removed from app '" + py_str(arg("app_name")) + "'."}));
  }
  // ---- assertions ----
  if (name == "assert_airplane_mode_status") return Json(py::equal(d["airplane_mode"], arg("expected_status")));
  if (name == "assert_service_status") {
    const Json& e = arg("expected_status");
    static const char* valid[] = {"connected", "searching", "no_service", "emergency_only"};
    bool ok = false;
    for (const char* v : valid) ok = ok || e == v;
    if (!ok) throw ToolError(py::repr(py_str(e)) + " is not a valid NetworkStatus");
    return Json(d["network_connection_status"] == e);
  }
  if (name == "assert_mobile_data_status") return Json(py::equal(Json(mobile_data_working()), arg("expected_status")));
  if (name == "assert_mobile_roaming_status") return Json(py::equal(d["roaming_enabled"], arg("expected_status")));
  if (name == "assert_mobile_data_saver_mode_status") return Json(py::equal(d["data_saver_mode"], arg("expected_status")));
  if (name == "assert_internet_speed") {
    auto [speed, desc] = speed_test();
    const double s = speed.value_or(0.0);
    const bool fast = s >= pyops::num(arg("expected_speed"));
    const Json want_desc = opt_arg("expected_desc");
    if (want_desc.is_null()) return Json(fast);
    return Json(fast && pyops::lower(desc) == pyops::lower(pyops::str(want_desc, "lower")));
  }
  if (name == "assert_internet_not_excellent") return Json(pyops::lower(speed_test().second) != "excellent");
  if (name == "assert_can_send_mms") return Json(py::equal(Json(can_send_mms()), arg("expected_status")));
  if (name == "assert_mobile_data_usage_exceeded")
    return Json(py::equal(surroundings()["mobile_data_usage_exceeded"], arg("expected_status")));
  return ToolKit::call_env_function(name, args);
}

// TelecomEnvironment: after every step the user's surroundings follow the agent-side records.
class TelecomEnvironment : public Environment {
 public:
  TelecomEnvironment(std::string policy, std::unique_ptr<TelecomTools> tools, std::unique_ptr<TelecomUserTools> user_tools)
      : Environment("telecom", std::move(policy), std::move(tools), std::move(user_tools)) {}

  void sync_tools() override {
    auto& agent = static_cast<TelecomTools&>(*tools_);
    auto& user = static_cast<TelecomUserTools&>(*user_tools_);
    Json& s = user.surroundings();
    if (s["phone_number"].is_null()) return;
    const Json phone = s["phone_number"];
    Json& line = agent.line_by_phone(phone);
    s["line_active"] = line["status"] == "Active";
    s["roaming_allowed"] = pyops::truthy(line["roaming_enabled"]);
    const Json& plan = agent.plan_by_id(line["plan_id"]);
    s["mobile_data_usage_exceeded"] =
        !pyops::less(line["data_used_gb"], pyops::arith(plan["data_limit_gb"], line["data_refueling_gb"], '+'));
    if (!s["payment_request"].is_null() && pyops::truthy(s["payment_request"]["paid"])) {
      agent.set_bill_to_paid(s["payment_request"]["bill_id"]);
      s["payment_request"] = nullptr;
    }
    if (s["payment_request"].is_null()) {
      Json& customer = agent.customer_by_phone(phone);
      const auto bills = agent.bills_awaiting_payment(customer);
      if (!bills.empty())
        s["payment_request"] = Json{{"bill_id", (*bills[0])["bill_id"]}, {"amount_due", (*bills[0])["total_due"]}, {"paid", false}};
    }
  }
};

// The telecom policy as get_environment assembles it (manual variant, the default).
inline std::string assemble_policy(const std::string& main_policy, const std::string& tech_support_manual) {
  return "<main_policy>\n" + main_policy + "\n</main_policy>\n<tech_support_policy>\n" + tech_support_manual + "\n</tech_support_policy>";
}

inline std::unique_ptr<Environment> make_environment(const Json& db, const Json& user_db, const std::string& policy) {
  return std::make_unique<TelecomEnvironment>(policy, std::make_unique<TelecomTools>(db), std::make_unique<TelecomUserTools>(user_db));
}

// From the official folder, after tools/fetch_datasets.d/tau2.sh converted the TOML files.
inline std::unique_ptr<Environment> load_environment(const std::string& domain_dir) {
  return make_environment(load_json_file(domain_dir + "/db.json"), load_json_file(domain_dir + "/user_db.json"),
                          assemble_policy(load_text_file(domain_dir + "/main_policy.md"),
                                          load_text_file(domain_dir + "/tech_support_manual.md")));
}

}  // namespace gemma4::eval::tau2::telecom
