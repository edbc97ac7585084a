// §3 Errors, auth and roles: bearer JWT variants, the role x route matrix, ownership and the
// order in which refusals apply.

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "conformance/client/jwt.hpp"
#include "conformance/suites/suites.hpp"

namespace agentcheck {
namespace {

using namespace support;

// Throwaway keys generated for agentcheck and published here on purpose: no agent can trust
// them, so a token they sign must always be refused.
constexpr const char* foreign_rsa_key = R"pem(
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDMp3DfAVEl9tZw
9/UND7tB+TehHvHTIAPQAXvWpkkskD76l/yXvU5wq6Hur8/QKE9kpkH5cc1ChaR8
9cMGEorbpBJ98WJoKXU6B1cMB4m24x0aRHDBQdc1n1kU0tjo/zQW2tk4O8sFwB3w
4bH90OicCyA0n0IvPyrejrlLwz8cpsRX2Ws14gUS3dTLjnPBLmRECuOX5S71rzSR
Y3kDqpiTxEk3G6Qrxk8SY2maIfnQr37NomMZE0nmaWFfMmLx4EQbjhJCTb1XUPi9
Bs5z33oOtVcvgKSrXfJe9khWahcJdJK5iW+iljKhDbKOJqsL0rnGO1OjQ5jJrT8W
h/PHnrqbAgMBAAECggEAA8wXjAu6NboewHnZUiS4lMDLB3JLil9Nss5UPedX9Du4
721igm5AxlZo6sTYVkRpNLThBH/YDyPrqWXl+HbfnLOupCeWa9hZFHqOYurA42PT
ZmlerjdKhvQt8vT2kVwq20G0RhbV7YVjCNUnOE5oAn0yW8eYsse5Q+fiCEXXJfDp
tKICcr7cu53xnobBTB6QwkvNoSSY/kBfRPmYnf+7bmvCNMKt6mGDnD0dxpIWxa9l
4nd9jnzgLBOMKjZt6yTjgVWWbJnd+A8MQu72mF7Nw+/nE/38oRbTNfR+IohTzzIr
fQE/II2VnomJBwLzPaHMmIlB5w9s8RCABbCg2ke6AQKBgQDqY6Yk9pzY8F6ZFtpz
AfCtdpaKtzu50fT6pe/MKHx6ur9Ci7A6Dq1Owsyp4WsP3PFV18wRtUAWMeJThQV8
tF0Bvv/4pOpZdXfyXWXrGCndla2aS8VYMAkn8lHekp7KScjodV+YRDUzGWsM/heM
po6p2W5fScaLb/Lp3nIl3Y5DBQKBgQDfhfHInU9jMRdk3rrG4PREGEiSyJ036H4d
2L5Jkq9/67drnOrZ4/RfGYqJDPQa138XucIaPJN77QHzYF22wEpHycx3eEY3r/MQ
D8qr62o219ZCznRuXEnHu9zQtPXBD0D+poj4rIt8+lby69pvHXfNv8djcMmu7noa
pxsp7v65HwKBgBUqVnB0DInSethcJfHItREU6lcwYKZQ/Uw8+8B1z3fNsUOzFYDI
noHEOXMFtgNCslBMIlNfCKB4dLWSB4LRTqy/sKGlUrwtTV2HbZKjJfSqdXi/atyh
ydHfoeD1YH1n2EqVfsJjNmKc4vvTXhEHYU6ZIcxc/x7MRyUzPx+IODZ5AoGBAJfV
vuYNpe21XTTR74JFMOhIrpO23sUpkvHnV2tWzwxQLGpXT1jvdgJbsTVjrTXGiLiv
IGD+IRkfaCHQphgMCuk09UV6WAhf5vZUI9IguifC+fKrl3+YBS4+OMM1CXM5T2cr
7QMvAhnFW+bru5ebJtSGn4S3CulfaWZNeTBE/pb1AoGASo+UZ4PnzRiKHc4Fgiq5
+nvFO6dS1VK4tnB3xeKIJI58Zi/KeiLFCr3MotIXWA2Qb9P1j6WpxxphjI+z7sAM
sYWVX7pM1/5+3hwPdk2Y/xFpHN4Ymte1cUd4kxfxBVMcJP8sKk/vlglMdX7KPCKf
HFmkGsyLN2INzoBMiYzFEQI=
-----END PRIVATE KEY-----
)pem";
constexpr const char* foreign_rsa_public_key = R"pem(
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzKdw3wFRJfbWcPf1DQ+7
Qfk3oR7x0yAD0AF71qZJLJA++pf8l71OcKuh7q/P0ChPZKZB+XHNQoWkfPXDBhKK
26QSffFiaCl1OgdXDAeJtuMdGkRwwUHXNZ9ZFNLY6P80FtrZODvLBcAd8OGx/dDo
nAsgNJ9CLz8q3o65S8M/HKbEV9lrNeIFEt3Uy45zwS5kRArjl+Uu9a80kWN5A6qY
k8RJNxukK8ZPEmNpmiH50K9+zaJjGRNJ5mlhXzJi8eBEG44SQk29V1D4vQbOc996
DrVXL4Ckq13yXvZIVmoXCXSSuYlvopYyoQ2yjiarC9K5xjtTo0OYya0/Fofzx566
mwIDAQAB
-----END PUBLIC KEY-----
)pem";
constexpr const char* foreign_ec_key = R"pem(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxXPyYSSyzYjamNcg
3zM9ByCkFu0xEVF4P5VLFQ7LWd2hRANCAAQqEwMIcSmp7+yHNK/XBRPrsCbxDQw0
EWquAyVnZq7OcmXK8JhHiQZBR759za3bPF/+Pk5956OkYqB0/HBA7Flw
-----END PRIVATE KEY-----
)pem";

/// The protected route bad-token checks use: a plain viewer-level read.
const char* const probe_path = "/agents?limit=1";

response send_with_token(context& ctx, const std::string& token, std::string path = probe_path) {
    return ctx.send(make("GET", std::move(path)).with("Authorization", "Bearer " + token));
}

/// Throws (verdict error) unless the harness's own valid admin token is accepted: without
/// that control a refused bad token would prove nothing.
void require_valid_control(context& ctx) {
    auto r = send_with_token(ctx, ctx.token("admin"));
    if (r.status != 200)
        throw std::runtime_error(
            "precondition failed: a valid admin token is refused on GET /agents (" + describe(r) +
            "); check --jwt-secret-file and AUTH-001 — refusing a bad token proves nothing then");
}

/// Fails unless `token` is refused with 401 and a Bearer error="invalid_token" challenge
/// (after checking that a valid token is accepted).
void expect_bad_token(context& ctx, const std::string& token, std::string_view what) {
    require_valid_control(ctx);
    auto r = send_with_token(ctx, token);
    expect_refused(ctx, r, 401, std::string("a token with ") + std::string(what));
    expect_bearer_challenge(ctx, r, "error=\"invalid_token\"");
}

/// Fails unless `token` is accepted (GET /agents 200).
void expect_good_token(context& ctx, const std::string& token, std::string_view what) {
    auto r = send_with_token(ctx, token);
    if (r.status != 200)
        ctx.fail(std::string("a valid token with ") + std::string(what) + " was refused", "200",
                 describe(r));
}

const json& auth_doc(context& ctx) {
    static const json empty = json::object();
    const auto& d = ctx.discovery();
    return d.contains("auth") && d["auth"].is_object() ? d["auth"] : empty;
}

/// The declared leeway in seconds (30 when absent); a value that is not a whole number of
/// seconds in [0, one day] counts as absent (a float past long long's range would be
/// undefined behaviour to convert).
long long leeway(context& ctx) {
    const auto& a = auth_doc(ctx);
    if (!a.contains("leeway_s")) return 30;
    const auto& v = a["leeway_s"];
    if (v.is_number_integer()) return std::clamp<long long>(v.get<long long>(), 0, 86400);
    if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() <= 86400)
        return static_cast<long long>(v.get<double>());
    return 30;
}

bool declares_alg(context& ctx, std::string_view alg) {
    const auto& a = auth_doc(ctx);
    if (!a.contains("algorithms") || !a["algorithms"].is_array()) return false;
    for (auto& x : a["algorithms"])
        if (x.is_string() && x.get<std::string>() == alg) return true;
    return false;
}

std::vector<std::string> split_token(const std::string& t) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        auto dot = t.find('.', start);
        parts.push_back(
            t.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}

/// admin's claims (so the role is never the reason for a refusal), adjusted by `edit`.
template <typename Edit> json admin_claims(context& ctx, Edit edit) {
    auto c = ctx.claims("admin");
    edit(c);
    return c;
}

/// An admin token padded (through an extra claim) to the largest length <= max (or the
/// smallest > max when `over`).
std::string token_near(context& ctx, std::size_t max, bool over) {
    auto base = ctx.claims("admin");
    auto length_for = [&](std::size_t pad) {
        auto c = base;
        c["pad"] = std::string(pad, 'p');
        return ctx.mint(c);
    };
    std::size_t pad = 0;
    std::size_t l0 = length_for(0).size();
    if (max > l0 + 40) pad = (max - l0 - 40) * 3 / 4;
    std::string last_under = length_for(pad);
    for (;; ++pad) {
        auto t = length_for(pad);
        if (t.size() > max) return over ? t : last_under;
        last_under = t;
    }
}

void add_token_checks(check_registry& reg) {
    reg.add({"AUTH-001.hs256-identities",
             {"AUTH-001"},
             layer::unit,
             "HS256 tokens for viewer, operator and admin signed with the configured secret read "
             "GET /agents (200)",
             [](context& ctx) {
                 for (const char* who : {"viewer", "operator", "admin"})
                     expect_good_token(ctx, ctx.token(who), std::string("role ") + who);
             }});
    reg.add(
        {"AUTH-001.minimal-claims",
         {"AUTH-001"},
         layer::unit,
         "A token with only sub, exp and roles (plus iss/aud when declared, no iat) is accepted",
         [](context& ctx) {
             auto full = ctx.claims("viewer");
             json c{{"sub", full["sub"]},
                    {"exp", ctx.now_s() + 600},
                    {"roles", json::array({"viewer"})}};
             for (const char* k : {"iss", "aud"})
                 if (full.contains(k)) c[k] = full[k];
             expect_good_token(ctx, ctx.mint(c), "only sub, exp and roles");
         }});
    reg.add(
        {"AUTH-002.missing-token",
         {"AUTH-002"},
         layer::unit,
         "GET /agents without Authorization is 401 with WWW-Authenticate: Bearer realm=\"agent\"",
         [](context& ctx) {
             auto r = ctx.send(make("GET", "/agents"));
             expect_refused(ctx, r, 401, "no token");
             ctx.expect_header(r, "WWW-Authenticate", "Bearer realm=\"agent\"");
         }});
    reg.add({"AUTH-002.missing-token-every-route",
             {"AUTH-002"},
             layer::unit,
             "Every protected agent route (list, create, read, update, status, capabilities, "
             "delete) without a token is 401 Bearer realm=\"agent\"",
             [](context& ctx) {
                 auto a = ctx.create_agent();
                 auto id = id_of(ctx, a);
                 std::vector<request> reqs{
                     make("GET", "/agents"),
                     make("POST", "/agents").json(base_body(ctx)),
                     make("GET", "/agents/" + id),
                     make("PUT", "/agents/" + id)
                         .json(mutable_fields(a))
                         .with("If-Match", quoted(a.value("revision", 1))),
                     make("PUT", "/agents/" + id + "/status").json(json{{"status", "active"}}),
                     make("GET", "/agents/" + id + "/capabilities"),
                     make("DELETE", "/agents/" + id)};
                 for (auto& q : reqs) {
                     auto r = ctx.send(q);
                     expect_refused(ctx, r, 401, q.method + " " + q.target + " without a token");
                     auto v = r.header("WWW-Authenticate");
                     if (v != "Bearer realm=\"agent\"")
                         ctx.fail("wrong challenge on " + q.method + " " + q.target,
                                  "Bearer realm=\"agent\"", v.value_or("absent"));
                 }
             }});
    reg.add({"AUTH-003.basic-scheme",
             {"AUTH-003"},
             layer::unit,
             "GET /agents with Authorization: Basic is 401 with a Bearer challenge",
             [](context& ctx) {
                 auto r = ctx.send(
                     make("GET", "/agents").with("Authorization", "Basic YWRtaW46YWRtaW4="));
                 expect_refused(ctx, r, 401, "a Basic credential");
                 expect_bearer_challenge(ctx, r, "");
             }});
    reg.add(
        {"AUTH-003.empty-bearer",
         {"AUTH-003", "AUTH-014"},
         layer::unit,
         "GET /agents with \"Authorization: Bearer\" and no token is 401 with a Bearer challenge",
         [](context& ctx) {
             auto r = ctx.send(make("GET", "/agents").with("Authorization", "Bearer"));
             expect_refused(ctx, r, 401, "an empty bearer token");
             expect_bearer_challenge(ctx, r, "");
         }});
    reg.add({"AUTH-003.token-without-scheme",
             {"AUTH-003"},
             layer::unit,
             "GET /agents with a valid token but no scheme in Authorization is 401 with a Bearer "
             "challenge",
             [](context& ctx) {
                 auto r =
                     ctx.send(make("GET", "/agents").with("Authorization", ctx.token("admin")));
                 expect_refused(ctx, r, 401, "a token without the Bearer scheme");
                 expect_bearer_challenge(ctx, r, "");
             }});
    reg.add({"AUTH-030.lowercase-scheme",
             {"AUTH-030"},
             layer::unit,
             "GET /agents with \"Authorization: bearer <token>\" is 200",
             [](context& ctx) {
                 auto r = ctx.send(make("GET", "/agents?limit=1")
                                       .with("Authorization", "bearer " + ctx.token("viewer")));
                 ctx.expect_status(r, 200);
             }});
    for (const char* alg : {"none", "None", "NONE"}) {
        reg.add(
            {std::string("AUTH-004.alg-") + alg,
             {"AUTH-004", "AUTH-017"},
             layer::unit,
             std::string("An unsigned admin token with alg \"") + alg + "\" is 401 invalid_token",
             [alg](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token(std::string("alg-") + alg),
                                  std::string("alg ") + alg);
             }});
    }
    reg.add(
        {"AUTH-004.alg-none-with-signature",
         {"AUTH-004", "AUTH-017"},
         layer::unit,
         "An admin token whose header says alg none but which carries a valid HS256 signature is "
         "401 invalid_token",
         [](context& ctx) {
             // the HS256 signature over the none header, signed with the run's secret
             expect_bad_token(ctx, ctx.variant_token("alg-none-signed"),
                              "alg none and a signature");
         }});
    reg.add({"AUTH-005.alg-hs512-unsigned",
             {"AUTH-005", "AUTH-017"},
             layer::unit,
             "An admin token claiming alg HS512 (not declared) is 401 invalid_token",
             [](context& ctx) {
                 if (declares_alg(ctx, "HS512")) ctx.skip("HS512 is declared");
                 expect_bad_token(ctx, ctx.variant_token("alg-hs512"), "alg HS512");
             }});
    reg.add({"AUTH-005.rs256-foreign-key",
             {"AUTH-005", "AUTH-006", "AUTH-017"},
             layer::unit,
             "An admin token signed RS256 with a key the agent cannot know is 401 invalid_token "
             "(undeclared alg or bad signature)",
             [](context& ctx) {
                 auto t = client::mint(json{{"alg", "RS256"}, {"typ", "JWT"}}, ctx.claims("admin"),
                                       foreign_rsa_key);
                 expect_bad_token(ctx, t,
                                  declares_alg(ctx, "RS256") ? "an RS256 signature by a foreign key"
                                                             : "the undeclared alg RS256");
             }});
    reg.add({"AUTH-005.es256-foreign-key",
             {"AUTH-005", "AUTH-006", "AUTH-017"},
             layer::unit,
             "An admin token signed ES256 with a key the agent cannot know is 401 invalid_token "
             "(undeclared alg or bad signature)",
             [](context& ctx) {
                 auto t = client::mint(json{{"alg", "ES256"}, {"typ", "JWT"}}, ctx.claims("admin"),
                                       foreign_ec_key);
                 expect_bad_token(ctx, t,
                                  declares_alg(ctx, "ES256") ? "an ES256 signature by a foreign key"
                                                             : "the undeclared alg ES256");
             }});
    reg.add({"AUTH-006.wrong-secret",
             {"AUTH-006", "AUTH-017"},
             layer::unit,
             "An admin token signed HS256 with another secret is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("wrong-secret"),
                                  "a signature by another secret");
             }});
    reg.add({"AUTH-006.altered-payload",
             {"AUTH-006", "AUTH-017"},
             layer::unit,
             "A viewer token whose payload was altered to claim admin (signature kept) is 401 "
             "invalid_token",
             [](context& ctx) {
                 auto parts = split_token(ctx.token("viewer"));
                 auto c = ctx.claims("viewer");
                 c["roles"] = json::array({"admin"});
                 expect_bad_token(ctx, parts[0] + "." + client::b64url(c.dump()) + "." + parts[2],
                                  "an altered payload");
             }});
    reg.add({"AUTH-006.stripped-signature",
             {"AUTH-006", "AUTH-017"},
             layer::unit,
             "An admin token with its signature removed (\"header.payload.\") is 401 invalid_token",
             [](context& ctx) {
                 auto parts = split_token(ctx.token("admin"));
                 expect_bad_token(ctx, parts[0] + "." + parts[1] + ".", "no signature");
             }});
    reg.add({"AUTH-006.truncated-signature",
             {"AUTH-006", "AUTH-017"},
             layer::unit,
             "An admin token with the last characters of its signature cut is 401 invalid_token",
             [](context& ctx) {
                 auto t = ctx.token("admin");
                 expect_bad_token(ctx, t.substr(0, t.size() - 3), "a truncated signature");
             }});
    reg.add({"AUTH-006.hs-rs-confusion",
             {"AUTH-006", "AUTH-017"},
             layer::unit,
             "With RS256 declared, an HS256 token whose HMAC key is a public-key PEM is 401 "
             "invalid_token",
             [](context& ctx) {
                 if (!declares_alg(ctx, "RS256")) ctx.skip("RS256 is not declared");
                 auto t = client::mint_hs256(ctx.claims("admin"), foreign_rsa_public_key);
                 expect_bad_token(ctx, t, "HS256 keyed with a public key");
             }});

    reg.add({"AUTH-007.expired",
             {"AUTH-007", "AUTH-017"},
             layer::unit,
             "An admin token whose exp is leeway_s + 60 s in the past is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("expired"), "exp beyond the leeway");
             }});
    reg.add({"AUTH-008.expired-within-leeway",
             {"AUTH-008"},
             layer::unit,
             "An admin token that expired leeway_s / 2 ago is accepted",
             [](context& ctx) {
                 if (leeway(ctx) < 10)
                     ctx.skip(
                         "leeway_s is under 10 s: too tight to test without clock-skew flakiness");
                 expect_good_token(ctx, ctx.variant_token("expired-within-leeway"),
                                   "exp within the leeway");
             }});
    reg.add({"AUTH-009.nbf-future",
             {"AUTH-009", "AUTH-017"},
             layer::unit,
             "An admin token whose nbf is leeway_s + 60 s in the future is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("nbf-future"), "nbf beyond the leeway");
             }});
    reg.add({"AUTH-009.nbf-within-leeway",
             {"AUTH-009"},
             layer::unit,
             "An admin token whose nbf is leeway_s / 2 in the future is accepted",
             [](context& ctx) {
                 if (leeway(ctx) < 10)
                     ctx.skip(
                         "leeway_s is under 10 s: too tight to test without clock-skew flakiness");
                 expect_good_token(ctx, ctx.variant_token("nbf-within-leeway"),
                                   "nbf within the leeway");
             }});
    reg.add({"AUTH-009.nbf-past",
             {"AUTH-009"},
             layer::unit,
             "An admin token whose nbf is 60 s in the past is accepted",
             [](context& ctx) {
                 expect_good_token(ctx, ctx.variant_token("nbf-past"), "nbf in the past");
             }});
    reg.add({"AUTH-010.iat-future",
             {"AUTH-010"},
             layer::unit,
             "An admin token issued (iat) leeway_s + 300 s in the future is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("iat-future"), "iat in the future");
             }});
    reg.add({"AUTH-011.wrong-issuer",
             {"AUTH-011", "AUTH-017"},
             layer::unit,
             "With auth.issuer declared, an admin token with another iss is 401 invalid_token",
             [](context& ctx) {
                 if (!auth_doc(ctx).contains("issuer")) ctx.skip("auth.issuer is not declared");
                 expect_bad_token(ctx, ctx.variant_token("wrong-iss"), "a wrong iss");
             }});
    reg.add({"AUTH-011.missing-issuer",
             {"AUTH-011", "AUTH-017"},
             layer::unit,
             "With auth.issuer declared, an admin token without iss is 401 invalid_token",
             [](context& ctx) {
                 if (!auth_doc(ctx).contains("issuer")) ctx.skip("auth.issuer is not declared");
                 expect_bad_token(ctx, ctx.variant_token("no-iss"), "no iss");
             }});
    reg.add({"AUTH-012.wrong-audience",
             {"AUTH-012", "AUTH-017"},
             layer::unit,
             "With auth.audience declared, an admin token with another aud is 401 invalid_token",
             [](context& ctx) {
                 if (!auth_doc(ctx).contains("audience")) ctx.skip("auth.audience is not declared");
                 expect_bad_token(ctx, ctx.variant_token("wrong-aud"), "a wrong aud");
             }});
    reg.add({"AUTH-012.missing-audience",
             {"AUTH-012", "AUTH-017"},
             layer::unit,
             "With auth.audience declared, an admin token without aud is 401 invalid_token",
             [](context& ctx) {
                 if (!auth_doc(ctx).contains("audience")) ctx.skip("auth.audience is not declared");
                 expect_bad_token(ctx, ctx.variant_token("no-aud"), "no aud");
             }});
    reg.add({"AUTH-029.audience-array",
             {"AUTH-029"},
             layer::unit,
             "With auth.audience declared, a token whose aud is an array containing it is accepted",
             [](context& ctx) {
                 if (!auth_doc(ctx).contains("audience")) ctx.skip("auth.audience is not declared");
                 expect_good_token(ctx, ctx.variant_token("aud-array"), "aud as an array");
             }});
    reg.add({"AUTH-013.missing-sub",
             {"AUTH-013", "AUTH-017"},
             layer::unit,
             "An admin token without sub is 401 invalid_token",
             [](context& ctx) { expect_bad_token(ctx, ctx.variant_token("no-sub"), "no sub"); }});
    reg.add({"AUTH-013.missing-exp",
             {"AUTH-013", "AUTH-017"},
             layer::unit,
             "An admin token without exp is 401 invalid_token",
             [](context& ctx) { expect_bad_token(ctx, ctx.variant_token("no-exp"), "no exp"); }});
    reg.add({"AUTH-013.sub-not-string",
             {"AUTH-013", "AUTH-014", "AUTH-017"},
             layer::unit,
             "An admin token whose sub is a number is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("sub-number"), "a numeric sub");
             }});
    reg.add({"AUTH-013.exp-not-number",
             {"AUTH-013", "AUTH-014", "AUTH-017"},
             layer::unit,
             "An admin token whose exp is a string is 401 invalid_token",
             [](context& ctx) {
                 expect_bad_token(ctx, ctx.variant_token("exp-string"), "a string exp");
             }});

    struct malformed {
        const char* slug;
        const char* title;
        std::function<std::string(context&)> token;
    };
    for (const auto& m : std::vector<malformed>{
             {"one-part", "a single segment", [](context&) { return std::string("agentcheck"); }},
             {"two-parts", "two segments",
              [](context& ctx) {
                  auto p = split_token(ctx.token("admin"));
                  return p[0] + "." + p[1];
              }},
             {"four-parts", "four segments",
              [](context& ctx) { return ctx.token("admin") + ".e30"; }},
             {"empty-parts", "three empty segments", [](context&) { return std::string(".."); }},
             {"bad-base64", "characters outside base64url",
              [](context& ctx) {
                  auto p = split_token(ctx.token("admin"));
                  return p[0] + ".*" + p[1].substr(1) + "." + p[2];
              }},
             {"header-not-json", "a header that is not JSON",
              [](context& ctx) {
                  auto p = split_token(ctx.token("admin"));
                  auto h = client::b64url("not json");
                  return h + "." + p[1] + "." +
                         client::b64url(client::hmac_sha256(ctx.hs256_secret(), h + "." + p[1]));
              }},
             {"payload-not-json", "a payload that is not JSON",
              [](context& ctx) {
                  auto p = split_token(ctx.token("admin"));
                  auto b = client::b64url("{\"sub\": ");
                  return p[0] + "." + b + "." +
                         client::b64url(client::hmac_sha256(ctx.hs256_secret(), p[0] + "." + b));
              }},
             {"payload-array", "a payload that is a JSON array",
              [](context& ctx) {
                  auto p = split_token(ctx.token("admin"));
                  auto b = client::b64url("[1, 2]");
                  return p[0] + "." + b + "." +
                         client::b64url(client::hmac_sha256(ctx.hs256_secret(), p[0] + "." + b));
              }},
         }) {
        reg.add({std::string("AUTH-014.") + m.slug,
                 {"AUTH-014", "AUTH-017"},
                 layer::unit,
                 std::string("A token made of ") + m.title + " is 401 invalid_token",
                 [m](context& ctx) { expect_bad_token(ctx, m.token(ctx), m.title); }});
    }
    reg.add({"AUTH-015.over-8k",
             {"AUTH-015", "AUTH-017"},
             layer::unit,
             "A validly signed admin token just over 8192 bytes is 401 invalid_token",
             [](context& ctx) {
                 if (ctx.limit("max_header_bytes", 16384) < 12000)
                     ctx.skip("max_header_bytes is under 12000: the head limit would answer first");
                 auto t = token_near(ctx, 8192, true);
                 ctx.note("token length " + std::to_string(t.size()));
                 expect_bad_token(ctx, t, "a length of " + std::to_string(t.size()) + " bytes");
             }});
    reg.add({"AUTH-016.at-8k",
             {"AUTH-016"},
             layer::unit,
             "A validly signed admin token of (nearly) 8192 bytes is accepted",
             [](context& ctx) {
                 if (ctx.limit("max_header_bytes", 16384) < 12000)
                     ctx.skip("max_header_bytes is under 12000: the head limit would answer first");
                 auto t = token_near(ctx, 8192, false);
                 ctx.note("token length " + std::to_string(t.size()));
                 expect_good_token(ctx, t, "a length of " + std::to_string(t.size()) + " bytes");
             }});
}

/// A route of the registry, for the role matrix.
enum class op { list, read, capabilities, create, update, status, remove };

const char* op_name(op o) {
    switch (o) {
    case op::list:
        return "GET /agents";
    case op::read:
        return "GET /agents/{id}";
    case op::capabilities:
        return "GET /agents/{id}/capabilities";
    case op::create:
        return "POST /agents";
    case op::update:
        return "PUT /agents/{id}";
    case op::status:
        return "PUT /agents/{id}/status";
    case op::remove:
        return "DELETE /agents/{id}";
    }
    return "?";
}

/// Performs `o` as `who` on agent `a` (owned by operator).
response perform(context& ctx, agent_guard& guard, std::string_view who, op o, const json& a) {
    auto id = id_of(ctx, a);
    switch (o) {
    case op::list:
        return ctx.send(authed(ctx, who, "GET", "/agents?limit=1"));
    case op::read:
        return ctx.send(authed(ctx, who, "GET", "/agents/" + id));
    case op::capabilities:
        return ctx.send(authed(ctx, who, "GET", "/agents/" + id + "/capabilities"));
    case op::create:
        return post_agent(ctx, guard, base_body(ctx, "matrix"), who);
    case op::update: {
        auto g = ctx.send(authed(ctx, "admin", "GET", "/agents/" + id));
        auto b = mutable_fields(a);
        b["version"] = "9.9.9";
        return put_agent(ctx, id, b, g.header("ETag").value_or(quoted(a.value("revision", 1))),
                         who);
    }
    case op::status:
        return put_status(ctx, id, "active", who);
    case op::remove:
        return ctx.send(authed(ctx, who, "DELETE", "/agents/" + id));
    }
    return {};
}

int success_status(op o) {
    return o == op::create ? 201 : o == op::remove ? 204 : 200;
}

/// Checks that every op in `ops`, done by `who` on a fresh operator-owned agent, gives
/// success (allowed) or 403 (refused; with insufficient_scope when `scope`).
void expect_ops(context& ctx, std::string_view who, const std::vector<op>& ops, bool allowed,
                bool scope) {
    agent_guard guard(ctx);
    auto a = ctx.create_agent("operator");
    for (op o : ops) {
        auto r = perform(ctx, guard, who, o, a);
        std::string what = std::string(who) + " " + op_name(o);
        if (allowed) {
            if (r.status != success_status(o))
                ctx.fail(what + " was refused", std::to_string(success_status(o)), describe(r));
        } else {
            expect_refused(ctx, r, 403, what);
            if (scope) expect_bearer_challenge(ctx, r, "error=\"insufficient_scope\"");
        }
    }
    if (!allowed) {
        auto g = ctx.send(authed(ctx, "admin", "GET", "/agents/" + id_of(ctx, a)));
        ctx.expect_status(g, 200);
        auto j = ctx.expect_json(g);
        ctx.expect(j.value("revision", -1) == a.value("revision", 1) &&
                       j.value("status", std::string()) == a.value("status", std::string()),
                   "a refused request changed the agent", a.dump(), j.dump());
    }
}

void add_role_checks(check_registry& reg) {
    const std::vector<op> reads{op::list, op::read, op::capabilities};
    const std::vector<op> writes_own{op::update, op::status, op::remove};
    reg.add({"AUTH-022.operator-creates",
             {"AUTH-022"},
             layer::unit,
             "operator POST /agents is 201",
             [](context& ctx) { expect_ops(ctx, "operator", {op::create}, true, false); }});
    reg.add(
        {"AUTH-018.viewer-create-403",
         {"AUTH-018"},
         layer::unit,
         "viewer POST /agents is 403 with WWW-Authenticate: Bearer error=\"insufficient_scope\"",
         [](context& ctx) { expect_ops(ctx, "viewer", {op::create}, false, true); }});
    reg.add({"AUTH-019.noroles-everywhere",
             {"AUTH-019", "AUTH-018"},
             layer::integration,
             "A valid token without roles is 403 insufficient_scope on every agent route, reads "
             "included",
             [](context& ctx) {
                 expect_ops(ctx, "noroles",
                            {op::list, op::read, op::capabilities, op::create, op::update,
                             op::status, op::remove},
                            false, true);
             }});
    reg.add({"AUTH-019.unknown-role",
             {"AUTH-019", "AUTH-018"},
             layer::unit,
             "A valid token whose only role is unknown (\"superuser\") is 403 on GET /agents",
             [](context& ctx) {
                 auto r = send_with_token(ctx, ctx.variant_token("unknown-role", "viewer"));
                 expect_refused(ctx, r, 403, "an unknown role");
                 expect_bearer_challenge(ctx, r, "error=\"insufficient_scope\"");
             }});
    reg.add({"AUTH-019.empty-roles",
             {"AUTH-019", "AUTH-018"},
             layer::unit,
             "A valid token with \"roles\": [] is 403 on GET /agents",
             [](context& ctx) {
                 auto r = send_with_token(ctx, ctx.variant_token("empty-roles", "viewer"));
                 expect_refused(ctx, r, 403, "an empty roles claim");
                 expect_bearer_challenge(ctx, r, "error=\"insufficient_scope\"");
             }});
    reg.add(
        {"AUTH-020.viewer-reads",
         {"AUTH-020"},
         layer::unit,
         "viewer may GET /agents, /agents/{id} and /agents/{id}/capabilities of operator's agent",
         [reads](context& ctx) { expect_ops(ctx, "viewer", reads, true, false); }});
    reg.add({"AUTH-021.viewer-cannot-write",
             {"AUTH-021", "AUTH-018"},
             layer::integration,
             "viewer PUT, PUT status and DELETE on an agent are 403 insufficient_scope and change "
             "nothing",
             [writes_own](context& ctx) { expect_ops(ctx, "viewer", writes_own, false, true); }});
    for (op o : writes_own) {
        std::string slug = o == op::update ? "update" : o == op::status ? "status" : "delete";
        reg.add({"AUTH-023.operator-own-" + slug,
                 {"AUTH-023"},
                 layer::unit,
                 std::string("operator may ") + op_name(o) + " on the agent it owns",
                 [o](context& ctx) { expect_ops(ctx, "operator", {o}, true, false); }});
        reg.add({"AUTH-024.operator-other-" + slug,
                 {"AUTH-024"},
                 layer::unit,
                 std::string("operator2 ") + op_name(o) +
                     " on operator's agent is 403 and changes nothing",
                 [o](context& ctx) { expect_ops(ctx, "operator2", {o}, false, false); }});
        reg.add({"AUTH-025.admin-any-" + slug,
                 {"AUTH-025"},
                 layer::unit,
                 std::string("admin may ") + op_name(o) + " on operator's agent",
                 [o](context& ctx) { expect_ops(ctx, "admin", {o}, true, false); }});
    }
    reg.add({"AUTH-026.operator-reads",
             {"AUTH-026"},
             layer::unit,
             "operator2 may read operator's agent (list, read, capabilities)",
             [reads](context& ctx) { expect_ops(ctx, "operator2", reads, true, false); }});
    reg.add({"AUTH-026.admin-reads-and-creates",
             {"AUTH-026"},
             layer::unit,
             "admin may read operator's agent and create agents",
             [reads](context& ctx) {
                 auto ops = reads;
                 ops.push_back(op::create);
                 expect_ops(ctx, "admin", ops, true, false);
             }});
    reg.add({"AUTH-018.role-matrix",
             {"AUTH-018", "AUTH-019", "AUTH-020", "AUTH-021", "AUTH-022", "AUTH-023", "AUTH-024",
              "AUTH-025", "AUTH-026"},
             layer::integration,
             "The whole identity x route matrix (noroles, viewer, operator, operator2, admin x 7 "
             "routes) on operator-owned agents",
             [](context& ctx) {
                 agent_guard guard(ctx);
                 const std::vector<op> all{op::list,   op::read,   op::capabilities, op::create,
                                           op::update, op::status, op::remove};
                 auto allowed = [](std::string_view who, op o) {
                     if (who == "noroles") return false;
                     if (who == "viewer")
                         return o == op::list || o == op::read || o == op::capabilities;
                     if (who == "operator2")
                         return o == op::list || o == op::read || o == op::capabilities ||
                                o == op::create;
                     return true; // operator (owner) and admin
                 };
                 std::string table;
                 for (std::string who : {"noroles", "viewer", "operator", "operator2", "admin"}) {
                     auto a = ctx.create_agent("operator");
                     for (op o : all) {
                         auto r = perform(ctx, guard, who, o, a);
                         const int want = allowed(who, o) ? success_status(o) : 403;
                         if (r.status != want)
                             table += who + " " + op_name(o) + ": " + std::to_string(r.status) +
                                      " (want " + std::to_string(want) + "); ";
                     }
                 }
                 ctx.expect(table.empty(), "role matrix mismatches",
                            "every cell as PROTOCOL.md §3 says", table);
             }});
    reg.add({"AUTH-024.ownership-workflow",
             {"AUTH-024", "AUTH-025", "AUTH-023", "REG-030"},
             layer::e2e,
             "operator2 cannot touch operator's agent; admin updates it (owner kept); the owner "
             "keeps control; admin deletes it",
             [](context& ctx) {
                 auto a = ctx.create_agent("operator");
                 auto id = id_of(ctx, a);
                 auto b = mutable_fields(a);
                 b["version"] = "2.0.0";
                 expect_refused(ctx, put_agent(ctx, id, b, quoted(1), "operator2"), 403,
                                "operator2 PUT");
                 expect_refused(ctx, put_status(ctx, id, "active", "operator2"), 403,
                                "operator2 status");
                 expect_refused(ctx, ctx.send(authed(ctx, "operator2", "DELETE", "/agents/" + id)),
                                403, "operator2 DELETE");
                 auto r = put_agent(ctx, id, b, quoted(1), "admin");
                 ctx.expect_status(r, 200);
                 auto u = ctx.expect_json(r);
                 ctx.expect(u.value("owner", std::string()) == ctx.subject("operator"),
                            "admin's PUT changed the owner", ctx.subject("operator"),
                            u.value("owner", std::string()));
                 auto etag = ctx.expect_header_present(r, "ETag");
                 b["version"] = "2.1.0";
                 ctx.expect_status(put_agent(ctx, id, b, etag, "operator"), 200);
                 ctx.expect_status(put_status(ctx, id, "active", "operator"), 200);
                 ctx.expect_status(put_status(ctx, id, "inactive", "admin"), 200);
                 ctx.expect_status(ctx.send(authed(ctx, "admin", "DELETE", "/agents/" + id)), 204);
             }});
}

/// A body over max_body_bytes (valid JSON padded with spaces), or empty when the limit is
/// too large to test.
std::string oversized_body(context& ctx, std::string prefix) {
    const long long max = ctx.limit("max_body_bytes", 1 << 20);
    if (max > (16LL << 20)) ctx.skip("max_body_bytes is over 16 MiB");
    prefix.append(static_cast<std::size_t>(max) + 1 -
                      std::min<std::size_t>(prefix.size(), static_cast<std::size_t>(max)),
                  ' ');
    return prefix;
}

void add_order_checks(check_registry& reg) {
    struct order_case {
        std::string req;
        std::string slug;
        std::string title;
        int want;
        std::function<response(context&)> run;
    };
    auto raw = [](std::string method, std::string path, std::string ct, std::string body) {
        request r(std::move(method), std::move(path));
        if (!ct.empty()) r.with("Content-Type", std::move(ct));
        r.body = std::move(body);
        return r;
    };
    auto with_token = [](context& ctx, request r, std::string_view who) {
        r.bearer(ctx.token(who));
        return r;
    };
    auto large = [](context& ctx, const request& r) {
        auto out = send_large(ctx, r);
        if (!out) ctx.fail("no response (connection closed)", "a response", "none");
        return *out;
    };
    const std::vector<order_case> cases = {
        {"AUTH-040", "unknown-path-no-token",
         "GET of an unknown path without a token is 404 (not 401)", 404,
         [](context& ctx) { return ctx.send(make("GET", "/no-such-path-" + random_hex(ctx, 6))); }},
        {"AUTH-040", "unknown-path-bad-token",
         "GET of an unknown path with a bad token is 404 (not 401)", 404,
         [](context& ctx) {
             return ctx.send(make("GET", "/no-such-path-" + random_hex(ctx, 6))
                                 .with("Authorization", "Bearer x.y.z"));
         }},
        {"AUTH-040", "wrong-method-no-token", "DELETE /agents without a token is 405 (not 401)",
         405, [](context& ctx) { return ctx.send(make("DELETE", "/agents")); }},
        {"AUTH-040", "wrong-method-item-no-token",
         "PATCH /agents/{id} without a token is 405 (not 401)", 405,
         [](context& ctx) {
             return ctx.send(make("PATCH", "/agents/" + random_uuid(ctx)).json(json::object()));
         }},
        {"AUTH-040", "wrong-method-viewer",
         "POST /agents/{id}/capabilities as viewer is 405 (not 403)", 405,
         [](context& ctx) {
             return ctx.send(
                 authed(ctx, "viewer", "POST", "/agents/" + random_uuid(ctx) + "/capabilities")
                     .json(json::object()));
         }},
        {"AUTH-041", "no-token-bad-json",
         "POST /agents without a token and with malformed JSON is 401", 401,
         [raw](context& ctx) { return ctx.send(raw("POST", "/agents", "application/json", "{")); }},
        {"AUTH-041", "no-token-wrong-type",
         "POST /agents without a token, sent as text/plain, is 401", 401,
         [raw](context& ctx) {
             return ctx.send(raw("POST", "/agents", "text/plain", base_body(ctx).dump()));
         }},
        {"AUTH-041", "no-token-schema",
         "POST /agents without a token and with a schema violation is 401", 401,
         [](context& ctx) {
             return ctx.send(make("POST", "/agents").json(json{{"name", "Bad Name"}}));
         }},
        {"AUTH-041", "no-token-unknown-agent",
         "GET /agents/{random uuid} without a token is 401 (not 404)", 401,
         [](context& ctx) { return ctx.send(make("GET", "/agents/" + random_uuid(ctx))); }},
        {"AUTH-041", "bad-token-bad-json",
         "POST /agents with an expired token and malformed JSON is 401", 401,
         [raw](context& ctx) {
             auto r = raw("POST", "/agents", "application/json", "{");
             r.bearer(ctx.variant_token("far-expired"));
             return ctx.send(r);
         }},
        {"AUTH-041", "no-token-oversized",
         "POST /agents without a token and with a body over max_body_bytes is 401", 401,
         [raw, large](context& ctx) {
             return large(ctx,
                          raw("POST", "/agents", "application/json", oversized_body(ctx, "{}")));
         }},
        {"AUTH-042", "viewer-bad-json", "POST /agents as viewer with malformed JSON is 403", 403,
         [raw, with_token](context& ctx) {
             return ctx.send(
                 with_token(ctx, raw("POST", "/agents", "application/json", "{"), "viewer"));
         }},
        {"AUTH-042", "viewer-wrong-type", "POST /agents as viewer sent as text/plain is 403", 403,
         [raw, with_token](context& ctx) {
             return ctx.send(with_token(ctx, raw("POST", "/agents", "text/plain", "{}"), "viewer"));
         }},
        {"AUTH-042", "viewer-schema", "POST /agents as viewer with a schema violation is 403", 403,
         [](context& ctx) {
             return ctx.send(
                 authed(ctx, "viewer", "POST", "/agents").json(json{{"name", "Bad Name"}}));
         }},
        {"AUTH-042", "viewer-put-unknown", "PUT /agents/{random uuid} as viewer is 403 (not 404)",
         403,
         [](context& ctx) {
             return put_agent(ctx, random_uuid(ctx), mutable_fields(base_body(ctx)),
                              std::string("\"1\""), "viewer");
         }},
        {"AUTH-042", "noroles-get-unknown",
         "GET /agents/{random uuid} with a role-less token is 403 (not 404)", 403,
         [](context& ctx) {
             return ctx.send(authed(ctx, "noroles", "GET", "/agents/" + random_uuid(ctx)));
         }},
        {"AUTH-042", "viewer-oversized",
         "POST /agents as viewer with a body over max_body_bytes is 403", 403,
         [raw, with_token, large](context& ctx) {
             return large(ctx, with_token(ctx,
                                          raw("POST", "/agents", "application/json",
                                              oversized_body(ctx, "{}")),
                                          "viewer"));
         }},
        {"AUTH-043", "415-before-400",
         "POST /agents as operator, text/plain with malformed JSON, is 415", 415,
         [raw, with_token](context& ctx) {
             return ctx.send(
                 with_token(ctx, raw("POST", "/agents", "text/plain", "{"), "operator"));
         }},
        {"AUTH-043", "missing-type-before-400",
         "POST /agents as operator, no Content-Type with malformed JSON, is 415", 415,
         [raw, with_token](context& ctx) {
             return ctx.send(with_token(ctx, raw("POST", "/agents", "", "{"), "operator"));
         }},
        {"AUTH-043", "415-before-413",
         "POST /agents as operator, text/plain over max_body_bytes, is 415", 415,
         [raw, with_token, large](context& ctx) {
             return large(
                 ctx,
                 with_token(ctx, raw("POST", "/agents", "text/plain", oversized_body(ctx, "{}")),
                            "operator"));
         }},
        {"AUTH-043", "413-before-400",
         "POST /agents as operator, malformed JSON over max_body_bytes, is 413", 413,
         [raw, with_token, large](context& ctx) {
             return large(ctx, with_token(ctx,
                                          raw("POST", "/agents", "application/json",
                                              oversized_body(ctx, "{\"name\": ")),
                                          "operator"));
         }},
        {"AUTH-044", "400-before-404",
         "PUT /agents/{random uuid} (If-Match) with malformed JSON is 400 (not 404)", 400,
         [raw, with_token](context& ctx) {
             auto r = with_token(
                 ctx, raw("PUT", "/agents/" + random_uuid(ctx), "application/json", "{"), "admin");
             r.with("If-Match", "\"1\"");
             return ctx.send(r);
         }},
        {"AUTH-044", "400-before-404-status",
         "PUT /agents/{random uuid}/status with malformed JSON is 400 (not 404)", 400,
         [raw, with_token](context& ctx) {
             return ctx.send(with_token(
                 ctx,
                 raw("PUT", "/agents/" + random_uuid(ctx) + "/status", "application/json", "{"),
                 "admin"));
         }},
        {"AUTH-044", "415-before-404",
         "PUT /agents/{random uuid} sent as text/plain is 415 (not 404)", 415,
         [raw, with_token](context& ctx) {
             auto r = with_token(ctx, raw("PUT", "/agents/" + random_uuid(ctx), "text/plain", "{}"),
                                 "admin");
             r.with("If-Match", "\"1\"");
             return ctx.send(r);
         }},
        {"AUTH-044", "400-before-422",
         "POST /agents with a schema violation and invalid UTF-8 in a metadata value is 400 (not "
         "422)",
         400,
         [raw, with_token](context& ctx) {
             std::string body =
                 R"({"name": "Bad Name", "version": 7, "capabilities": [], "metadata": {"k": "\xC3\x28"}})";
             body.replace(body.find("\\xC3\\x28"), 8, "\xC3\x28");
             return ctx.send(
                 with_token(ctx, raw("POST", "/agents", "application/json", body), "operator"));
         }},
        {"AUTH-044", "400-before-409",
         "POST /agents with a taken name and malformed JSON after it is 400 (not 409)", 400,
         [raw, with_token](context& ctx) {
             auto a = ctx.create_agent("operator");
             std::string body =
                 R"({"name": ")" + a["name"].get<std::string>() + R"(", "version": "1.0.0",)";
             return ctx.send(
                 with_token(ctx, raw("POST", "/agents", "application/json", body), "operator"));
         }},
        {"AUTH-045", "404-before-428",
         "PUT /agents/{random uuid} without If-Match is 404 (not 428)", 404,
         [](context& ctx) {
             return put_agent(ctx, random_uuid(ctx), mutable_fields(base_body(ctx)), std::nullopt,
                              "admin");
         }},
        {"AUTH-045", "404-before-422",
         "PUT /agents/{random uuid} (If-Match) with a schema violation is 404 (not 422)", 404,
         [](context& ctx) {
             return put_agent(ctx, random_uuid(ctx), json{{"name", "Bad Name"}},
                              std::string("\"1\""), "admin");
         }},
        {"AUTH-045", "404-before-422-status",
         "PUT /agents/{random uuid}/status with an unknown status is 404 (not 422)", 404,
         [](context& ctx) { return put_status(ctx, random_uuid(ctx), "flying", "admin"); }},
        {"AUTH-045", "404-before-ownership", "operator PUT /agents/{random uuid} is 404 (not 403)",
         404,
         [](context& ctx) {
             return put_agent(ctx, random_uuid(ctx), mutable_fields(base_body(ctx)),
                              std::string("\"1\""), "operator");
         }},
        {"AUTH-046", "ownership-before-428",
         "operator2 PUT on operator's agent without If-Match is 403 (not 428)", 403,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_agent(ctx, id_of(ctx, a), mutable_fields(a), std::nullopt, "operator2");
         }},
        {"AUTH-046", "ownership-before-412",
         "operator2 PUT on operator's agent with a stale If-Match is 403 (not 412)", 403,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_agent(ctx, id_of(ctx, a), mutable_fields(a), std::string("\"999999\""),
                              "operator2");
         }},
        {"AUTH-046", "ownership-before-422",
         "operator2 PUT on operator's agent (right If-Match) with a schema violation is 403 (not "
         "422)",
         403,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_agent(ctx, id_of(ctx, a), json{{"name", "Bad Name"}},
                              quoted(a.value("revision", 1)), "operator2");
         }},
        {"AUTH-046", "ownership-before-422-status",
         "operator2 PUT status \"flying\" on operator's agent is 403 (not 422)", 403,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_status(ctx, id_of(ctx, a), "flying", "operator2");
         }},
        {"AUTH-046", "ownership-before-409-status",
         "operator2 PUT status draining (forbidden move) on operator's agent is 403 (not 409)", 403,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_status(ctx, id_of(ctx, a), "draining", "operator2");
         }},
        {"AUTH-047", "428-before-422",
         "owner PUT without If-Match and with a schema violation is 428 (not 422)", 428,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_agent(ctx, id_of(ctx, a), json{{"name", "Bad Name"}}, std::nullopt,
                              "operator");
         }},
        {"AUTH-047", "412-before-422",
         "owner PUT with a stale If-Match and a schema violation is 412 (not 422)", 412,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return put_agent(ctx, id_of(ctx, a), json{{"name", "Bad Name"}},
                              std::string("\"999999\""), "operator");
         }},
        {"AUTH-048", "422-before-409-post",
         "POST /agents with a taken name and a bad version is 422 (not 409)", 422,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             auto b = base_body(ctx);
             b["name"] = a["name"];
             b["version"] = "not-semver";
             agent_guard guard(ctx);
             return post_agent(ctx, guard, b);
         }},
        {"AUTH-048", "422-before-409-put",
         "PUT renaming to a taken name with a bad version is 422 (not 409)", 422,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             auto other = ctx.create_agent("operator");
             auto b = mutable_fields(a);
             b["name"] = other["name"];
             b["version"] = "not-semver";
             return put_agent(ctx, id_of(ctx, a), b, quoted(a.value("revision", 1)));
         }},
        {"AUTH-048", "422-before-409-status",
         "PUT status draining (forbidden from registered) with an unknown field is 422 (not 409)",
         422,
         [](context& ctx) {
             auto a = ctx.create_agent("operator");
             return ctx.send(authed(ctx, "operator", "PUT", "/agents/" + id_of(ctx, a) + "/status")
                                 .json(json{{"status", "draining"}, {"colour", "red"}}));
         }},
    };
    for (const auto& c : cases) {
        reg.add({c.req + "." + c.slug, {c.req}, layer::unit, c.title, [c](context& ctx) {
                     auto r = c.run(ctx);
                     expect_refused(ctx, r, c.want, c.title);
                 }});
    }
}

} // namespace

void register_s03_auth(check_registry& registry) {
    add_token_checks(registry);
    add_role_checks(registry);
    add_order_checks(registry);
}

} // namespace agentcheck
