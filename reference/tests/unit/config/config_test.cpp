#include "reference/config/config.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using agent::config;
using agent::config_error;
using agent::parse_config;
using agent::parse_outcome;
using agent::sync_mode;
using agent::validate;

const std::string good_secret = "0123456789abcdef0123456789abcdef"; // exactly 32 bytes

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

const std::string& rsa_pem() {
    static const std::string pem = [] {
        std::unique_ptr<EVP_PKEY, pkey_free> k(EVP_RSA_gen(2048));
        return public_pem(k.get());
    }();
    return pem;
}

const std::string& ec_pem() {
    static const std::string pem = [] {
        std::unique_ptr<EVP_PKEY, pkey_free> k(EVP_EC_gen("P-256"));
        return public_pem(k.get());
    }();
    return pem;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return {data, static_cast<std::size_t>(len)};
}

/// A P-256 key and a self-signed certificate of it, as PEM: {certificate, private key}.
std::pair<std::string, std::string> certificate_and_key() {
    std::unique_ptr<EVP_PKEY, pkey_free> k(EVP_EC_gen("P-256"));
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), k.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    X509_sign(cert.get(), k.get(), EVP_sha256());
    std::unique_ptr<BIO, decltype(&BIO_free)> c(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_X509(c.get(), cert.get());
    std::unique_ptr<BIO, decltype(&BIO_free)> key(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(key.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return {bio_text(c.get()), bio_text(key.get())};
}

class config_test : public ::testing::Test {
protected:
    void SetUp() override {
        clear_agent_env();
        dir_ = fs::temp_directory_path() /
               ("agent_config_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        clear_agent_env();
        fs::remove_all(dir_);
    }

    static void clear_agent_env() {
        std::vector<std::string> names;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry = *e;
            if (entry.rfind("AGENT_", 0) == 0) names.push_back(entry.substr(0, entry.find('=')));
        }
        for (const auto& n : names)
            ::unsetenv(n.c_str());
    }

    std::string write(const std::string& name, const std::string& content) const {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

    static parse_outcome parse(std::vector<std::string> args) {
        std::vector<const char*> argv{"agentd"};
        for (const auto& a : args)
            argv.push_back(a.c_str());
        return parse_config(static_cast<int>(argv.size()), argv.data());
    }

    /// The config_error message of parsing args (fails the test when parsing succeeds).
    static std::string error_of(std::vector<std::string> args) {
        try {
            parse(std::move(args));
        } catch (const config_error& e) {
            return e.what();
        }
        ADD_FAILURE() << "parse succeeded";
        return {};
    }

    fs::path dir_;
};

// ---- defaults -------------------------------------------------------------------------

TEST_F(config_test, no_arguments_gives_the_defaults) {
    const auto out = parse({});
    EXPECT_FALSE(out.exit_now);
    EXPECT_TRUE(out.output.empty());
    const config& c = out.cfg;
    EXPECT_EQ(c.bind, "127.0.0.1"); // loopback unless told otherwise
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.threads, 0U);
    EXPECT_EQ(c.port_file, "");
    EXPECT_EQ(c.data_dir, "agentd-data");
    EXPECT_EQ(c.synchronous, sync_mode::full);
    EXPECT_EQ(c.commit_batch_max, 512U);
    EXPECT_EQ(c.idempotency_ttl, seconds{86400});
    EXPECT_EQ(c.maintenance_interval, std::chrono::milliseconds{5000});
    EXPECT_EQ(c.jwt_secret, "");
    EXPECT_FALSE(c.jwt_issuer.has_value());
    EXPECT_FALSE(c.jwt_audience.has_value());
    EXPECT_EQ(c.jwt_leeway, seconds{30});
    EXPECT_EQ(c.max_token_bytes, 8192U);
    EXPECT_EQ(c.max_body_bytes, 1048576U);
    EXPECT_EQ(c.max_header_bytes, 16384U);
    EXPECT_EQ(c.header_timeout, milliseconds{10000});
    EXPECT_EQ(c.idle_timeout, milliseconds{60000});
    EXPECT_EQ(c.write_timeout, milliseconds{10000});
    EXPECT_EQ(c.drain_timeout, milliseconds{10000});
    EXPECT_EQ(c.page_limit_default, 50U);
    EXPECT_EQ(c.page_limit_max, 500U);
    EXPECT_EQ(c.max_connections, 10000U);
    EXPECT_TRUE(c.log_requests);
}

// ---- every option, from every source --------------------------------------------------

/// Non-default values for every option (key files filled in by the test).
std::map<std::string, std::string> every_option(const std::string& secret_file,
                                                const std::string& rsa_file,
                                                const std::string& ec_file) {
    return {{"bind", "::1"},
            {"port", "9123"},
            {"threads", "7"},
            {"port-file", "/tmp/agentd.port"},
            {"data-dir", "/var/lib/agentd"},
            {"synchronous", "extra"},
            {"commit-batch-max", "64"},
            {"idempotency-ttl-s", "600"},
            {"maintenance-interval-ms", "250"},
            {"jwt-secret-file", secret_file},
            {"jwt-rs256-public-key-file", rsa_file},
            {"jwt-es256-public-key-file", ec_file},
            {"jwt-issuer", "https://issuer.example"},
            {"jwt-audience", "agents"},
            {"jwt-leeway-s", "5"},
            {"max-token-bytes", "4096"},
            {"max-body-bytes", "2048"},
            {"max-header-bytes", "4096"},
            {"header-timeout-ms", "1500"},
            {"idle-timeout-ms", "2500"},
            {"write-timeout-ms", "3500"},
            {"drain-timeout-ms", "4500"},
            {"page-limit-default", "20"},
            {"page-limit-max", "200"},
            {"max-connections", "300"},
            {"log-requests", "false"}};
}

void expect_every_option(const config& c, const std::string& secret_file,
                         const std::string& rsa_file, const std::string& ec_file) {
    EXPECT_EQ(c.bind, "::1");
    EXPECT_EQ(c.port, 9123);
    EXPECT_EQ(c.threads, 7U);
    EXPECT_EQ(c.port_file, "/tmp/agentd.port");
    EXPECT_EQ(c.data_dir, "/var/lib/agentd");
    EXPECT_EQ(c.synchronous, sync_mode::extra);
    EXPECT_EQ(c.commit_batch_max, 64U);
    EXPECT_EQ(c.idempotency_ttl, seconds{600});
    EXPECT_EQ(c.maintenance_interval, std::chrono::milliseconds{250});
    EXPECT_EQ(c.jwt_secret_file, secret_file);
    EXPECT_EQ(c.jwt_secret, good_secret);
    EXPECT_EQ(c.jwt_rs256_public_key_file, rsa_file);
    EXPECT_EQ(c.jwt_rs256_public_key_pem, rsa_pem());
    EXPECT_EQ(c.jwt_es256_public_key_file, ec_file);
    EXPECT_EQ(c.jwt_es256_public_key_pem, ec_pem());
    EXPECT_EQ(c.jwt_issuer, "https://issuer.example");
    EXPECT_EQ(c.jwt_audience, "agents");
    EXPECT_EQ(c.jwt_leeway, seconds{5});
    EXPECT_EQ(c.max_token_bytes, 4096U);
    EXPECT_EQ(c.max_body_bytes, 2048U);
    EXPECT_EQ(c.max_header_bytes, 4096U);
    EXPECT_EQ(c.header_timeout, milliseconds{1500});
    EXPECT_EQ(c.idle_timeout, milliseconds{2500});
    EXPECT_EQ(c.write_timeout, milliseconds{3500});
    EXPECT_EQ(c.drain_timeout, milliseconds{4500});
    EXPECT_EQ(c.page_limit_default, 20U);
    EXPECT_EQ(c.page_limit_max, 200U);
    EXPECT_EQ(c.max_connections, 300U);
    EXPECT_FALSE(c.log_requests);
    EXPECT_NO_THROW(validate(c));
}

std::string env_of(const std::string& option) {
    std::string out = "AGENT_";
    for (char ch : option)
        out.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
    return out;
}

TEST_F(config_test, every_option_parses_from_flags) {
    const auto secret = write("secret", good_secret + "\n");
    const auto rsa = write("rsa.pem", rsa_pem());
    const auto ec = write("ec.pem", ec_pem());
    std::vector<std::string> args;
    for (const auto& [name, value] : every_option(secret, rsa, ec)) {
        args.push_back("--" + name);
        args.push_back(value);
    }
    expect_every_option(parse(args).cfg, secret, rsa, ec);
}

TEST_F(config_test, every_option_parses_in_equals_form) {
    const auto secret = write("secret", good_secret);
    const auto rsa = write("rsa.pem", rsa_pem());
    const auto ec = write("ec.pem", ec_pem());
    std::vector<std::string> args;
    for (const auto& [name, value] : every_option(secret, rsa, ec))
        args.push_back("--" + name + "=" + value);
    expect_every_option(parse(args).cfg, secret, rsa, ec);
}

TEST_F(config_test, every_option_has_an_environment_variable) {
    const auto secret = write("secret", good_secret);
    const auto rsa = write("rsa.pem", rsa_pem());
    const auto ec = write("ec.pem", ec_pem());
    for (const auto& [name, value] : every_option(secret, rsa, ec))
        ::setenv(env_of(name).c_str(), value.c_str(), 1);
    EXPECT_STREQ(std::getenv("AGENT_MAX_BODY_BYTES"), "2048"); // the naming the contract promises
    expect_every_option(parse({}).cfg, secret, rsa, ec);
}

TEST_F(config_test, every_option_can_come_from_a_config_file) {
    const auto secret = write("secret", good_secret);
    const auto rsa = write("rsa.pem", rsa_pem());
    const auto ec = write("ec.pem", ec_pem());
    std::string toml = "# agentd configuration\n";
    for (const auto& [name, value] : every_option(secret, rsa, ec))
        toml += name + " = \"" + value + "\"\n";
    expect_every_option(parse({"--config", write("agentd.toml", toml)}).cfg, secret, rsa, ec);
}

TEST_F(config_test, config_file_with_bare_values) {
    const auto file = write(
        "agentd.ini", "port = 7001\nlog-requests = false\nbind=0.0.0.0\nsynchronous = normal\n");
    const auto c = parse({"--config", file}).cfg;
    EXPECT_EQ(c.port, 7001);
    EXPECT_FALSE(c.log_requests);
    EXPECT_EQ(c.bind, "0.0.0.0");
    EXPECT_EQ(c.synchronous, sync_mode::normal);
}

TEST_F(config_test, config_file_named_by_environment) {
    ::setenv("AGENT_CONFIG", write("agentd.toml", "port = 7002\n").c_str(), 1);
    EXPECT_EQ(parse({}).cfg.port, 7002);
}

// ---- precedence -----------------------------------------------------------------------

TEST_F(config_test, precedence_flag_env_file_default) {
    const auto file = write("agentd.toml", "port = 1001\nmax-body-bytes = 111\n");
    ::setenv("AGENT_PORT", "1002", 1);
    ::setenv("AGENT_MAX_BODY_BYTES", "222", 1);
    auto c = parse({"--config", file, "--port", "1003"}).cfg;
    EXPECT_EQ(c.port, 1003);           // flag beats env and file
    EXPECT_EQ(c.max_body_bytes, 222U); // env beats file
    c = parse({"--config", file}).cfg;
    EXPECT_EQ(c.port, 1002);
    ::unsetenv("AGENT_PORT");
    c = parse({"--config", file}).cfg;
    EXPECT_EQ(c.port, 1001); // file beats default
    EXPECT_EQ(parse({}).cfg.port, 8080);
}

TEST_F(config_test, empty_environment_variable_is_ignored) {
    ::setenv("AGENT_PORT", "", 1);
    EXPECT_EQ(parse({}).cfg.port, 8080);
}

TEST_F(config_test, flag_given_twice_is_an_error_naming_it) {
    EXPECT_NE(error_of({"--port", "1", "--port", "2"}).find("--port"), std::string::npos);
}

// ---- the HS256 secret ---------------------------------------------------------------------

TEST_F(config_test, secret_from_environment) {
    ::setenv("AGENT_JWT_SECRET", good_secret.c_str(), 1);
    const auto c = parse({}).cfg;
    EXPECT_EQ(c.jwt_secret, good_secret);
    EXPECT_NO_THROW(validate(c));
}

TEST_F(config_test, secret_file_wins_over_environment) {
    ::setenv("AGENT_JWT_SECRET", "from-the-environment-from-the-environment", 1);
    const auto c = parse({"--jwt-secret-file", write("s", good_secret + "\n")}).cfg;
    EXPECT_EQ(c.jwt_secret, good_secret);
}

TEST_F(config_test, secret_file_trailing_newlines_stripped_only) {
    EXPECT_EQ(parse({"--jwt-secret-file", write("a", good_secret + "\r\n")}).cfg.jwt_secret,
              good_secret);
    EXPECT_EQ(parse({"--jwt-secret-file", write("b", " " + good_secret + " \n")}).cfg.jwt_secret,
              " " + good_secret + " ");
    EXPECT_EQ(parse({"--jwt-secret-file", write("c", good_secret)}).cfg.jwt_secret, good_secret);
}

TEST_F(config_test, empty_secret_is_refused) {
    const auto file = write("empty", "\n");
    EXPECT_EQ(error_of({"--jwt-secret-file", file}), "--jwt-secret-file: '" + file + "' is empty");
    ::setenv("AGENT_JWT_SECRET", "", 1);
    EXPECT_NE(error_of({}).find("AGENT_JWT_SECRET"), std::string::npos);
}

TEST_F(config_test, unreadable_files_name_option_path_and_reason) {
    const std::string missing = (dir_ / "nope").string();
    EXPECT_EQ(error_of({"--jwt-secret-file", missing}),
              "--jwt-secret-file: cannot read '" + missing + "': No such file or directory");
    EXPECT_EQ(error_of({"--jwt-rs256-public-key-file", missing}),
              "--jwt-rs256-public-key-file: cannot read '" + missing +
                  "': No such file or directory");
    EXPECT_EQ(error_of({"--jwt-es256-public-key-file", missing}),
              "--jwt-es256-public-key-file: cannot read '" + missing +
                  "': No such file or directory");
    EXPECT_EQ(error_of({"--jwt-secret-file", dir_.string()}),
              "--jwt-secret-file: cannot read '" + dir_.string() + "': Is a directory");
}

TEST_F(config_test, key_files_must_hold_the_right_public_key) {
    const auto junk = write("junk.pem", "not a key\n");
    EXPECT_NE(error_of({"--jwt-rs256-public-key-file", junk}).find("--jwt-rs256-public-key-file"),
              std::string::npos);
    EXPECT_NE(error_of({"--jwt-es256-public-key-file", junk}).find("--jwt-es256-public-key-file"),
              std::string::npos);
    EXPECT_NE(error_of({"--jwt-es256-public-key-file", write("rsa.pem", rsa_pem())})
                  .find("--jwt-es256-public-key-file"),
              std::string::npos);
    EXPECT_NE(error_of({"--jwt-rs256-public-key-file", write("ec.pem", ec_pem())})
                  .find("--jwt-rs256-public-key-file"),
              std::string::npos);
}

TEST_F(config_test, tls_needs_a_certificate_and_its_own_key) {
    const auto secret = write("secret", good_secret);
    const auto [cert_pem, key_pem] = certificate_and_key();
    const auto other_key = certificate_and_key().second;
    const auto cert = write("cert.pem", cert_pem);
    const auto key = write("key.pem", key_pem);
    const auto junk = write("junk.pem", "not PEM\n");
    const auto base = std::vector<std::string>{"--jwt-secret-file", secret};
    auto with = [&](std::vector<std::string> more) {
        auto args = base;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    EXPECT_EQ(error_of(with({"--tls-cert", cert})), "--tls-key: is needed with --tls-cert");
    EXPECT_EQ(error_of(with({"--tls-key", key})), "--tls-cert: is needed with --tls-key");
    EXPECT_NE(error_of(with({"--tls-cert", junk, "--tls-key", key})).find("--tls-cert: "),
              std::string::npos);
    EXPECT_NE(error_of(with({"--tls-cert", cert, "--tls-key", junk})).find("--tls-key: "),
              std::string::npos);
    EXPECT_NE(error_of(with({"--tls-cert", cert, "--tls-key", write("other.pem", other_key)}))
                  .find("is not the key of the certificate"),
              std::string::npos);
    const auto c = parse(with({"--tls-cert", cert, "--tls-key", key})).cfg;
    EXPECT_TRUE(c.tls());
    EXPECT_EQ(c.tls_cert_pem, cert_pem);
    EXPECT_FALSE(parse(base).cfg.tls());
}

// ---- bad values name their option -------------------------------------------------------

TEST_F(config_test, each_bad_value_names_its_option) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"port", "65536"},
        {"port", "-1"},
        {"port", "abc"},
        {"port", ""},
        {"port", "80 "},
        {"port", "0x50"},
        {"port", "99999999999999999999999"},
        {"threads", "257"},
        {"synchronous", "fast"},
        {"synchronous", ""},
        {"commit-batch-max", "0"},
        {"commit-batch-max", "100001"},
        {"idempotency-ttl-s", "0"},
        {"maintenance-interval-ms", "0"},
        {"maintenance-interval-ms", "9"},
        {"jwt-leeway-s", "3601"},
        {"jwt-leeway-s", "-5"},
        {"max-token-bytes", "255"},
        {"max-token-bytes", "65537"},
        {"max-body-bytes", "0"},
        {"max-body-bytes", "1073741825"},
        {"max-header-bytes", "1023"},
        {"max-header-bytes", "1048577"},
        {"header-timeout-ms", "0"},
        {"idle-timeout-ms", "0"},
        {"write-timeout-ms", "0"},
        {"drain-timeout-ms", "0"},
        {"page-limit-max", "0"},
        {"page-limit-max", "10001"},
        {"page-limit-default", "0"},
        {"page-limit-default", "501"},
        {"max-connections", "0"},
        {"log-requests", "maybe"},
        {"log-requests", "1"},
        {"bind", "localhost"},
        {"bind", "http://127.0.0.1"},
        {"bind", "127.0.0.1:8080"},
        {"bind", "999.1.1.1"},
        {"bind", ""},
        {"data-dir", ""},
        {"jwt-issuer", ""},
        {"jwt-audience", ""},
        {"port-file", ""},
        {"jwt-secret-file", ""},
    };
    for (const auto& [name, value] : bad) {
        const std::string msg = error_of({"--" + name + "=" + value});
        EXPECT_EQ(msg.rfind("--" + name + ":", 0), 0U) << name << "=" << value << " -> " << msg;
    }
}

TEST_F(config_test, explicitly_empty_values_are_refused) {
    for (const char* name :
         {"--bind", "--data-dir", "--port-file", "--jwt-secret-file", "--jwt-rs256-public-key-file",
          "--jwt-es256-public-key-file", "--jwt-issuer", "--jwt-audience"})
        EXPECT_EQ(error_of({name, ""}), std::string(name) + ": must not be empty");
    EXPECT_EQ(error_of({"--config", write("empty.toml", "jwt-audience = \"\"\n")}),
              "--jwt-audience: must not be empty");
}

TEST_F(config_test, bad_environment_value_names_the_option) {
    ::setenv("AGENT_MAX_BODY_BYTES", "lots", 1);
    EXPECT_EQ(error_of({}), "--max-body-bytes: 'lots' is not a whole non-negative number");
    ::setenv("AGENT_MAX_BODY_BYTES", "0", 1);
    EXPECT_EQ(error_of({}), "--max-body-bytes: 0 is out of range 1..1073741824");
}

TEST_F(config_test, range_boundaries_are_accepted) {
    const auto c =
        parse({"--port=0", "--threads=256", "--commit-batch-max=100000", "--jwt-leeway-s=3600",
               "--max-token-bytes=65536", "--max-body-bytes=1073741824",
               "--max-header-bytes=1048576", "--page-limit-max=10000", "--page-limit-default=10000",
               "--header-timeout-ms=1", "--bind=0.0.0.0"})
            .cfg;
    EXPECT_EQ(c.port, 0);
    EXPECT_EQ(c.threads, 256U);
    EXPECT_EQ(c.commit_batch_max, 100000U);
    EXPECT_EQ(c.jwt_leeway, seconds{3600});
    EXPECT_EQ(c.max_token_bytes, 65536U);
    EXPECT_EQ(c.max_body_bytes, 1073741824U);
    EXPECT_EQ(c.max_header_bytes, 1048576U);
    EXPECT_EQ(c.page_limit_default, 10000U);
    EXPECT_EQ(c.header_timeout, milliseconds{1});
    const auto low =
        parse({"--port=65535", "--commit-batch-max=1", "--jwt-leeway-s=0", "--max-token-bytes=256",
               "--max-body-bytes=1", "--max-header-bytes=1024", "--page-limit-max=1",
               "--page-limit-default=1", "--bind=fe80::1"})
            .cfg;
    EXPECT_EQ(low.port, 65535);
    EXPECT_EQ(low.max_header_bytes, 1024U);
    EXPECT_EQ(low.page_limit_max, 1U);
}

TEST_F(config_test, synchronous_modes_and_booleans) {
    EXPECT_EQ(parse({"--synchronous", "off"}).cfg.synchronous, sync_mode::off);
    EXPECT_EQ(parse({"--synchronous", "normal"}).cfg.synchronous, sync_mode::normal);
    EXPECT_EQ(parse({"--synchronous", "full"}).cfg.synchronous, sync_mode::full);
    EXPECT_EQ(parse({"--synchronous", "EXTRA"}).cfg.synchronous, sync_mode::extra);
    EXPECT_TRUE(parse({"--log-requests", "TRUE"}).cfg.log_requests);
    EXPECT_FALSE(parse({"--log-requests", "False"}).cfg.log_requests);
    EXPECT_STREQ(agent::to_string(sync_mode::off), "off");
    EXPECT_STREQ(agent::to_string(sync_mode::normal), "normal");
    EXPECT_STREQ(agent::to_string(sync_mode::full), "full");
    EXPECT_STREQ(agent::to_string(sync_mode::extra), "extra");
}

TEST_F(config_test, unknown_options_and_arguments_are_refused) {
    EXPECT_NE(error_of({"--bogus"}).find("--bogus"), std::string::npos);
    EXPECT_NE(error_of({"--max-body-byte=1"}).find("--max-body-byte"), std::string::npos);
    EXPECT_NE(error_of({"stray"}).find("stray"), std::string::npos);
    EXPECT_NE(error_of({"--port"}).find("--port"), std::string::npos); // value missing
}

TEST_F(config_test, config_file_errors_name_the_config_option) {
    const std::string unknown = error_of({"--config", write("bad.toml", "max-body-byte = 5\n")});
    EXPECT_EQ(unknown.rfind("--config:", 0), 0U) << unknown;
    EXPECT_NE(unknown.find("max-body-byte"), std::string::npos) << unknown;
    const std::string missing = error_of({"--config", (dir_ / "absent.toml").string()});
    EXPECT_EQ(missing.rfind("--config:", 0), 0U) << missing;
    const std::string bad_value = error_of({"--config", write("v.toml", "port = 70000\n")});
    EXPECT_EQ(bad_value.rfind("--port:", 0), 0U) << bad_value;
}

// ---- --help and --version ---------------------------------------------------------------

TEST_F(config_test, help_lists_every_option_with_its_default) {
    const auto out = parse({"--help"});
    EXPECT_TRUE(out.exit_now);
    const std::map<std::string, std::string> defaults = {{"bind", "127.0.0.1"},
                                                         {"port", "8080"},
                                                         {"threads", "0"},
                                                         {"data-dir", "agentd-data"},
                                                         {"synchronous", "full"},
                                                         {"commit-batch-max", "512"},
                                                         {"idempotency-ttl-s", "86400"},
                                                         {"jwt-leeway-s", "30"},
                                                         {"max-token-bytes", "8192"},
                                                         {"max-body-bytes", "1048576"},
                                                         {"max-header-bytes", "16384"},
                                                         {"header-timeout-ms", "10000"},
                                                         {"idle-timeout-ms", "60000"},
                                                         {"write-timeout-ms", "10000"},
                                                         {"drain-timeout-ms", "10000"},
                                                         {"page-limit-default", "50"},
                                                         {"page-limit-max", "500"},
                                                         {"max-connections", "10000"},
                                                         {"log-requests", "true"}};
    for (const auto& [name, def] : defaults) {
        const auto at = out.output.find("--" + name + " ");
        ASSERT_NE(at, std::string::npos) << name;
        const std::string line = out.output.substr(at, out.output.find('\n', at) - at);
        EXPECT_NE(line.find("=" + def + " "), std::string::npos) << line;
        EXPECT_NE(line.find("AGENT_" + env_of(name).substr(6)), std::string::npos) << line;
    }
    for (const char* name : {"--port-file", "--jwt-secret-file", "--jwt-rs256-public-key-file",
                             "--jwt-es256-public-key-file", "--jwt-issuer", "--jwt-audience",
                             "--config", "--help", "--version"})
        EXPECT_NE(out.output.find(name), std::string::npos) << name;
    EXPECT_EQ(parse({"-h"}).output, out.output);
}

TEST_F(config_test, help_wins_over_bad_values) {
    EXPECT_TRUE(parse({"--port=abc", "--help"}).exit_now);
}

TEST_F(config_test, version) {
    const auto out = parse({"--version"});
    EXPECT_TRUE(out.exit_now);
    EXPECT_EQ(out.output, "agentd 0.1.0\n");
}

// ---- validate ---------------------------------------------------------------------------

TEST_F(config_test, validate_requires_a_jwt_key) {
    config c;
    try {
        validate(c);
        FAIL() << "validated without a key";
    } catch (const config_error& e) {
        EXPECT_STREQ(e.what(),
                     "no JWT key configured: pass --jwt-secret-file, set AGENT_JWT_SECRET, or pass "
                     "--jwt-rs256-public-key-file / --jwt-es256-public-key-file");
    }
    c.jwt_rs256_public_key_pem = rsa_pem();
    EXPECT_NO_THROW(validate(c));
    c = config{};
    c.jwt_es256_public_key_pem = ec_pem();
    EXPECT_NO_THROW(validate(c));
}

TEST_F(config_test, validate_requires_a_32_byte_hs256_secret) {
    config c;
    c.jwt_secret = good_secret.substr(1); // 31 bytes
    try {
        validate(c);
        FAIL() << "accepted a 31-byte secret";
    } catch (const config_error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("AGENT_JWT_SECRET"), std::string::npos) << msg;
        EXPECT_NE(msg.find("32"), std::string::npos) << msg;
    }
    c.jwt_secret = good_secret;
    EXPECT_NO_THROW(validate(c));
}

TEST_F(config_test, validate_checks_values_of_a_config_built_in_code) {
    const auto message = [](const config& c) {
        try {
            validate(c);
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    config c;
    c.jwt_secret = good_secret;
    EXPECT_EQ(message(c), "(accepted)");
    auto bad = c;
    bad.max_body_bytes = 0;
    EXPECT_EQ(message(bad).rfind("--max-body-bytes:", 0), 0U);
    bad = c;
    bad.page_limit_default = bad.page_limit_max + 1;
    EXPECT_EQ(message(bad).rfind("--page-limit-default:", 0), 0U);
    bad = c;
    bad.bind = "not-an-address";
    EXPECT_EQ(message(bad).rfind("--bind:", 0), 0U);
    bad = c;
    bad.threads = 1000;
    EXPECT_EQ(message(bad).rfind("--threads:", 0), 0U);
    bad = c;
    bad.jwt_leeway = seconds{-1};
    EXPECT_EQ(message(bad).rfind("--jwt-leeway-s:", 0), 0U);
    bad = c;
    bad.drain_timeout = milliseconds{0};
    EXPECT_EQ(message(bad).rfind("--drain-timeout-ms:", 0), 0U);
    bad = c;
    bad.data_dir.clear();
    EXPECT_EQ(message(bad).rfind("--data-dir:", 0), 0U);
    bad = c;
    bad.jwt_issuer = "";
    EXPECT_EQ(message(bad).rfind("--jwt-issuer:", 0), 0U);
}

} // namespace
