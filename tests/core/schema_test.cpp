#include "core/schema.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict {
namespace {

using test_support::ThrowsError;

std::set<std::string> field_names(const Noun& noun) {
  std::set<std::string> names;
  for (const auto& field : noun.fields) names.insert(field.name);
  return names;
}

TEST(SchemaTest, ParsesPlainTypes) {
  EXPECT_EQ(parse_field("a", "string").type, FieldType::kString);
  EXPECT_EQ(parse_field("a", "number").type, FieldType::kNumber);
  EXPECT_EQ(parse_field("a", "boolean").type, FieldType::kBoolean);
  EXPECT_EQ(parse_field("a", "datetime").type, FieldType::kDatetime);
  EXPECT_EQ(parse_field("a", " json ").type, FieldType::kJson);
  Field plain = parse_field("a", "string");
  EXPECT_FALSE(plain.required);
  EXPECT_FALSE(plain.unique);
  EXPECT_FALSE(plain.indexed);
}

TEST(SchemaTest, ParsesRequiredUniqueAndIndexedMarkers) {
  Field required = parse_field("name", "string!");
  EXPECT_EQ(required.type, FieldType::kString);
  EXPECT_TRUE(required.required);
  EXPECT_FALSE(required.unique);

  Field unique = parse_field("slug", "string##");
  EXPECT_EQ(unique.type, FieldType::kString);
  EXPECT_TRUE(unique.unique);
  EXPECT_TRUE(unique.indexed);
  EXPECT_FALSE(unique.required);

  Field indexed = parse_field("email", "string#");
  EXPECT_TRUE(indexed.indexed);
  EXPECT_FALSE(indexed.unique);

  Field both = parse_field("key", "string!##");
  EXPECT_TRUE(both.required);
  EXPECT_TRUE(both.unique);
}

TEST(SchemaTest, ParsesEnumValuesTrimmed) {
  Field field = parse_field("type", "ABTest | Multivariate|FeatureFlag ");
  EXPECT_EQ(field.type, FieldType::kEnum);
  EXPECT_EQ(field.enum_values, (std::vector<std::string>{"ABTest", "Multivariate", "FeatureFlag"}));
}

TEST(SchemaTest, ParsesRelationTarget) {
  Field field = parse_field("organization", "-> Organization");
  EXPECT_EQ(field.type, FieldType::kRelation);
  EXPECT_EQ(field.target, "Organization");
  EXPECT_TRUE(field.indexed);
  EXPECT_EQ(parse_field("subject", "->*").target, "*");
}

TEST(SchemaTest, RejectsUnknownTypesAndBadNames) {
  try {
    parse_field("weight", "float");
    FAIL() << "float accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.field(), "weight");
    EXPECT_NE(std::string(error.what()).find("float"), std::string::npos);
  }
  EXPECT_THAT([&] { parse_field("1abc", "string"); },
              ThrowsError(ErrorCode::kInvalidArgument, "1abc"));
  EXPECT_THAT([&] { parse_field("a\"b", "string"); },
              ThrowsError(ErrorCode::kInvalidArgument, "a\"b"));
  EXPECT_THAT([&] { parse_field("", "string"); }, ThrowsError(ErrorCode::kInvalidArgument, ""));
}

TEST(SchemaTest, DerivesHookNames) {
  const std::pair<const char*, std::pair<const char*, const char*>> cases[] = {
      {"start", {"starting", "started"}},        {"rollout", {"rollingOut", "rolledOut"}},
      {"stop", {"stopping", "stopped"}},         {"addVariant", {"addingVariant", "addedVariant"}},
      {"pause", {"pausing", "paused"}},          {"create", {"creating", "created"}},
      {"conclude", {"concluding", "concluded"}}, {"resume", {"resuming", "resumed"}},
      {"enable", {"enabling", "enabled"}},       {"archive", {"archiving", "archived"}},
      {"update", {"updating", "updated"}},       {"run", {"running", "ran"}},
  };
  for (const auto& [verb, names] : cases) {
    EXPECT_EQ(before_hook_name(verb), names.first) << verb;
    EXPECT_EQ(after_hook_name(verb), names.second) << verb;
  }
}

TEST(SchemaTest, MakeVerbFillsHooks) {
  Verb verb = make_verb("rollout", VerbKind::kTransition, "RolledOut");
  EXPECT_EQ(verb.before_hook, "rollingOut");
  EXPECT_EQ(verb.after_hook, "rolledOut");
  EXPECT_TRUE(verb.needs_entity);
  EXPECT_FALSE(make_verb("create", VerbKind::kCreate, "Created").needs_entity);
}

TEST(SchemaTest, BuiltinDeclaresEveryNoun) {
  Schema schema = Schema::builtin();
  for (const char* name :
       {"Experiment", "FeatureFlag", "Event", "Metric", "Activity", "Organization", "Contact"})
    EXPECT_NE(schema.find(name), nullptr) << name;
  EXPECT_EQ(schema.find("Nope"), nullptr);
  try {
    schema.noun("Nope");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(error.what()).find("Experiment"), std::string::npos);
  }
}

TEST(SchemaTest, ExperimentHasTheSeedFields) {
  Schema schema = Schema::builtin();
  const Noun& experiment = schema.noun("Experiment");
  auto names = field_names(experiment);
  for (const char* name : {"name",     "slug",         "description",    "hypothesis",
                           "type",     "status",       "organization",   "owner",
                           "startAt",  "endAt",        "targetAudience", "trafficAllocation",
                           "variants", "metrics",      "primaryMetric",  "results",
                           "winner",   "confidence",   "sampleSize",     "conversions",
                           "tags",     "banditEnabled"})
    EXPECT_TRUE(names.contains(name)) << name;
  EXPECT_TRUE(experiment.field("name")->required);
  EXPECT_TRUE(experiment.field("slug")->unique);
  EXPECT_EQ(experiment.field("organization")->target, "Organization");
  EXPECT_EQ(experiment.field("owner")->target, "Contact");
  EXPECT_EQ(experiment.field("startAt")->type, FieldType::kDatetime);
  EXPECT_EQ(experiment.field("variants")->type, FieldType::kJson);
  EXPECT_EQ(experiment.field("banditEnabled")->type, FieldType::kBoolean);
  EXPECT_EQ(experiment.field("trafficAllocation")->min, 0);
  EXPECT_EQ(experiment.field("trafficAllocation")->max, 100);
  EXPECT_EQ(experiment.field("status")->enum_values,
            (std::vector<std::string>{"Draft", "Started", "Running", "Paused", "Concluded",
                                      "Completed", "Stopped", "Archived"}));
  EXPECT_EQ(experiment.initial_status(), "Draft");
  EXPECT_EQ(experiment.id_prefix, "experiment");
  for (const char* verb : {"create", "update", "delete", "start", "launch", "run", "pause",
                           "resume", "conclude", "complete", "stop", "archive", "addVariant"})
    EXPECT_NE(experiment.verb(verb), nullptr) << verb;
  EXPECT_EQ(experiment.verb("launch"), experiment.verb("start"));
  EXPECT_EQ(experiment.verb("addVariant")->after_hook, "addedVariant");
}

TEST(SchemaTest, FeatureFlagHasTheIssueFields) {
  Schema schema = Schema::builtin();
  const Noun& flag = schema.noun("FeatureFlag");
  EXPECT_EQ(flag.id_prefix, "featureFlag");
  EXPECT_EQ(flag.table, "feature_flag");
  const Field* key = flag.field("key");
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(key->required);
  EXPECT_TRUE(key->unique);
  EXPECT_TRUE(flag.field("name")->required);
  EXPECT_EQ(flag.field("experiment")->target, "Experiment");
  EXPECT_EQ(flag.field("organization")->target, "Organization");
  EXPECT_EQ(flag.field("type")->enum_values,
            (std::vector<std::string>{"Boolean", "String", "Number", "JSON"}));
  EXPECT_EQ(flag.field("status")->enum_values,
            (std::vector<std::string>{"Draft", "Active", "Enabled", "Disabled", "Paused",
                                      "RolledOut", "Archived"}));
  EXPECT_EQ(flag.field("rolloutPercentage")->max, 100);
  for (const char* name : {"description", "defaultValue", "variants", "targetingRules",
                           "evaluations", "lastEvaluatedAt"})
    EXPECT_NE(flag.field(name), nullptr) << name;
  EXPECT_EQ(flag.field("lastEvaluatedAt")->type, FieldType::kDatetime);
  for (const char* verb : {"rollout", "enable", "disable", "archive"})
    EXPECT_NE(flag.verb(verb), nullptr) << verb;
  EXPECT_EQ(flag.verb("rollout")->to, "RolledOut");
}

TEST(SchemaTest, SmallNounsHaveTheirFields) {
  Schema schema = Schema::builtin();
  const Noun& event = schema.noun("Event");
  EXPECT_EQ(event.field("data")->type, FieldType::kJson);
  EXPECT_EQ(event.field("subject")->type, FieldType::kRelation);
  EXPECT_EQ(event.field("timestamp")->type, FieldType::kDatetime);
  EXPECT_NE(event.field("type"), nullptr);
  const Noun& metric = schema.noun("Metric");
  EXPECT_EQ(metric.field("value")->type, FieldType::kNumber);
  EXPECT_NE(metric.field("name"), nullptr);
  EXPECT_NE(metric.field("type"), nullptr);
  const Noun& activity = schema.noun("Activity");
  EXPECT_EQ(activity.field("contact")->target, "Contact");
  for (const char* name : {"subject", "type", "status"})
    EXPECT_NE(activity.field(name), nullptr) << name;
  EXPECT_NE(schema.noun("Organization").field("name"), nullptr);
  EXPECT_NE(schema.noun("Contact").field("email"), nullptr);
  EXPECT_NE(schema.noun("Contact").field("name"), nullptr);
}

TEST(SchemaTest, NounForIdUsesThePrefix) {
  Schema schema = Schema::builtin();
  ASSERT_NE(schema.noun_for_id("featureFlag_abcdEFGH"), nullptr);
  EXPECT_EQ(schema.noun_for_id("featureFlag_abcdEFGH")->name, "FeatureFlag");
  EXPECT_EQ(schema.noun_for_id("nothing"), nullptr);
  EXPECT_EQ(schema.noun_for_id("widget_abcdEFGH"), nullptr);
}

TEST(SchemaTest, AddFieldAndVerbAtRunTime) {
  Schema schema = Schema::builtin();
  schema.add_field("Experiment", parse_field("team", "string"));
  EXPECT_NE(schema.noun("Experiment").field("team"), nullptr);
  // Same type again is a no-op; another type is a conflict.
  EXPECT_NO_THROW(schema.add_field("Experiment", parse_field("team", "string")));
  try {
    schema.add_field("Experiment", parse_field("team", "number"));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConflict);
    EXPECT_EQ(error.field(), "team");
  }
  EXPECT_THAT([&] { schema.add_field("Experiment", parse_field("start", "string")); },
              ThrowsError(ErrorCode::kConflict, "start"));
  schema.add_verb("Experiment", make_verb("ship", VerbKind::kTransition, "Shipped"));
  EXPECT_NE(schema.noun("Experiment").verb("ship"), nullptr);
  EXPECT_THAT(
      [&] { schema.add_verb("Experiment", make_verb("ship", VerbKind::kTransition, "Shipped")); },
      ThrowsError(ErrorCode::kConflict));
  EXPECT_THAT(
      [&] { schema.add_verb("Experiment", make_verb("name", VerbKind::kTransition, "Named")); },
      ThrowsError(ErrorCode::kConflict));
}

TEST(SchemaTest, AddFieldRefusesNamesThatAreNotIdentifiers) {
  Schema schema = Schema::builtin();
  Field field;
  field.name = "x\" TEXT); DROP TABLE experiment; --";
  EXPECT_THAT([&] { schema.add_field("Experiment", field); },
              ThrowsError(ErrorCode::kInvalidArgument, "field"));
  EXPECT_EQ(schema.noun("Experiment").field(field.name), nullptr);
}

// Issue 12: a field named `id` (or any name Verdict sets itself) crashed the engine on the next
// verb; a name differing only in case from a column made the table migration fail.
TEST(SchemaTest, AddFieldRefusesReservedNamesAndCaseClashes) {
  Schema schema = Schema::builtin();
  for (const char* name : {"id", "version", "createdAt", "updatedAt", "history",
                           "historyNextCursor", "rowid", "Id", "UPDATEDAT"}) {
    EXPECT_THAT([&] { schema.add_field("Experiment", parse_field(name, "number")); },
                ThrowsError(ErrorCode::kInvalidArgument, name));
  }
  EXPECT_THAT([&] { schema.add_field("Experiment", parse_field("Name", "string")); },
              ThrowsError(ErrorCode::kConflict, "Name"));
  EXPECT_THAT([&] { schema.add_field("Experiment", parse_field("Start", "string")); },
              ThrowsError(ErrorCode::kConflict, "Start"));
  schema.add_field("Experiment", parse_field("name", "string!"));
  EXPECT_EQ(schema.noun("Experiment").fields.size(),
            Schema::builtin().noun("Experiment").fields.size());
}

TEST(SchemaTest, AddNounDerivesPrefixAndTable) {
  Schema schema;
  Noun noun;
  noun.name = "BillingAccount";
  Noun& added = schema.add_noun(std::move(noun));
  EXPECT_EQ(added.id_prefix, "billingAccount");
  EXPECT_EQ(added.table, "billing_account");
  Noun again;
  again.name = "BillingAccount";
  EXPECT_THAT([&] { schema.add_noun(std::move(again)); }, ThrowsError(ErrorCode::kConflict));
}

TEST(SchemaTest, DescribeListsFieldsVerbsAndHooks) {
  Schema schema = Schema::builtin();
  auto description = describe(schema.noun("Experiment"));
  EXPECT_EQ(description.at("idPrefix"), "experiment_");
  EXPECT_EQ(description.at("fields").at("name").at("required"), true);
  EXPECT_EQ(description.at("fields").at("owner").at("target"), "Contact");
  const auto& start = description.at("verbs").at("start");
  EXPECT_EQ(start.at("event"), "Experiment.Started");
  EXPECT_EQ(start.at("to"), "Started");
  EXPECT_EQ(start.at("hooks"), (boost::json::array{"starting", "started"}));
}

// A collection verb in C++ (summary) runs no hooks, so none are advertised.
TEST(SchemaTest, DescribeListsNoHooksForCollectionVerbsInCpp) {
  Schema schema = Schema::builtin();
  Verb summary = make_verb("summary", VerbKind::kCustom, "Summarized");
  summary.needs_entity = false;
  schema.add_verb("Experiment", summary);
  Verb analyze = make_verb("analyze", VerbKind::kCustom, "Analyzed");
  schema.add_verb("Experiment", analyze);
  auto verbs = describe(schema.noun("Experiment")).at("verbs");
  EXPECT_FALSE(verbs.at("summary").as_object().contains("hooks"));
  EXPECT_EQ(verbs.at("analyze").at("hooks"), (boost::json::array{"analyzing", "analyzed"}));
}

}  // namespace
}  // namespace verdict
