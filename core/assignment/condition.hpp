#pragma once

#include <cstddef>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace verdict::assignment {

/// Conditions nested deeper than this (through $and, $or, $nor, $not, $elemMatch, $size,
/// $all) do not match; it bounds the recursion on untrusted input.
inline constexpr int kMaxConditionDepth = 64;
/// Longer `$regex` patterns, and attributes longer than `kMaxRegexSubjectLength` bytes, do
/// not match; matching uses Boost.Regex, whose backtracking limit makes a runaway pattern a
/// non-match too.
inline constexpr std::size_t kMaxRegexPatternLength = 1024;
inline constexpr std::size_t kMaxRegexSubjectLength = 4096;

/// Evaluates a GrowthBook targeting condition (MongoDB-like) against `attributes`, with the
/// JavaScript SDK's semantics: keys are dotted attribute paths or $and/$or/$nor/$not; values
/// are literals (string, number and boolean literals compare after JavaScript coercion;
/// arrays and objects compare as their JSON) or operator objects: $eq $ne $gt $gte $lt $lte
/// $in $nin $ini $nini $all $alli $exists $type $size $elemMatch $not $regex $regexi
/// $notRegex $notRegexi $veq $vne $vgt $vgte $vlt $vlte $inGroup $notInGroup. A missing
/// attribute behaves as null. Group ids in $inGroup name arrays in `saved_groups`.
///
/// Total: never throws on any input. As in the SDKs, an unknown operator or an invalid
/// regular expression is a non-match for that operator. A malformed condition (a logical
/// operator without an array of objects, a non-object where a condition is expected, a saved
/// group that is not an array, nesting past kMaxConditionDepth) does not match at all, where
/// JavaScript would throw or match by accident. Case-insensitive operators fold ASCII only.
/// Thread-safe; compiled regular expressions are cached per thread.
bool eval_condition(const boost::json::object& attributes, const boost::json::object& condition,
                    const boost::json::object& saved_groups = {});

/// GrowthBook's `paddedVersionString`: drops a leading "v" and "+build", splits on "." and
/// "-", appends "~" to a plain x.y.z so it sorts after its pre-releases, and left-pads numeric
/// parts to five characters, so that string order is version order.
std::string padded_version_string(const boost::json::value& version);

}  // namespace verdict::assignment
