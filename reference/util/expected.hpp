#pragma once
// A small expected<T, E> (C++23's std::expected is not in C++20): a value or an error.

#include <cassert>
#include <utility>
#include <variant>

namespace agent::util {

/// Wraps an error value so that expected<T, E> can be built from it unambiguously.
template <class E> struct unexpected {
    /// Wraps e. (A constructor, not only an aggregate: clang before 16 has no parenthesised
    /// aggregate initialisation, which unexpected(e) needs.)
    explicit unexpected(E e) : value(std::move(e)) {}
    E value;
};
template <class E> unexpected(E) -> unexpected<E>;

/// Holds either a T or an E. Not thread-safe (a plain value type).
template <class T, class E> class expected {
public:
    expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}
    expected(unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.value)) {}

    /// True when a value is held.
    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; precondition has_value().
    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; precondition !has_value().
    E& error() & {
        assert(!has_value());
        return std::get<1>(v_);
    }
    const E& error() const& {
        assert(!has_value());
        return std::get<1>(v_);
    }

private:
    std::variant<T, E> v_;
};

} // namespace agent::util
