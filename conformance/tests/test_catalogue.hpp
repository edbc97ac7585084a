#pragma once
// A small catalogue for the harness's own tests: three sections, every level, a feature
// requirement and a planned one.

#include <string_view>

#include "conformance/harness/catalogue.hpp"

namespace agentcheck::testing {

inline constexpr std::string_view small_catalogue_json = R"({
  "version": 1, "protocol": "agent-service/1",
  "sections": [{"id": "0", "title": "Shape"}, {"id": "2", "title": "Registry"},
               {"id": "4", "title": "Events"}],
  "requirements": [
    {"id": "HTTP-001", "section": "0", "title": "Unknown path is 404", "level": "MUST", "feature": "",
     "text": "An unknown path is answered 404 <with> a \"problem\" & more."},
    {"id": "REG-001", "section": "2", "title": "Create is 201", "level": "MUST", "feature": "",
     "text": "POST /agents answers 201."},
    {"id": "REG-002", "section": "2", "title": "Location header", "level": "SHOULD", "feature": "",
     "text": "A 201 carries Location."},
    {"id": "REG-003", "section": "2", "title": "Nice names", "level": "MAY", "feature": "",
     "text": "Names may be pretty."},
    {"id": "EVT-001", "section": "4", "title": "Events exist", "level": "MUST", "feature": "events",
     "text": "GET /events answers 200."},
    {"id": "REG-099", "section": "2", "title": "Someday", "level": "MUST", "feature": "",
     "text": "Not checked yet.", "planned": true}
  ]})";

inline const catalogue& small_catalogue() {
    static const catalogue cat = parse_catalogue(small_catalogue_json);
    return cat;
}

} // namespace agentcheck::testing
