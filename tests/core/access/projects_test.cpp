// Projects in the engine: every read and write of one project's caller stays in its project.
#include <gtest/gtest.h>

#include "core/access/access_nouns.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/test_store.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

class ProjectsTest : public ::testing::Test {
 protected:
  ProjectsTest() {
    engine_.keys().create_project("acme", "Acme");
    engine_.keys().create_project("beta", "Beta");
    a_ = engine_.keys().operator_of("acme");
    b_ = engine_.keys().operator_of("beta");
  }

  json::value run(const Caller& caller, std::string noun, std::string verb, std::string id = {},
                  json::object data = {}) {
    return engine_.execute({.noun = std::move(noun),
                            .verb = std::move(verb),
                            .id = std::move(id),
                            .data = std::move(data),
                            .caller = caller});
  }
  json::object create(const Caller& caller, std::string noun, json::object data) {
    return run(caller, std::move(noun), "create", {}, std::move(data)).as_object();
  }
  static Error error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::kInternal, "none");
  }
  // Everything a project's caller can read: every noun's entities with their histories.
  std::string digest(const Caller& caller) {
    std::string text;
    for (const auto& noun : engine_.schema().nouns()) {
      FindQuery query;
      query.limit = 1000;
      for (const auto& item : engine_.find(caller, noun->name, query).items) {
        text += json::serialize(item);
        if (!engine_.store().is_derived(*noun, item.at("id").as_string()))
          text += json::serialize(engine_.get(caller, noun->name, item.at("id").as_string(), true));
      }
    }
    return text;
  }
  std::string running_experiment(const Caller& caller, const std::string& name) {
    auto experiment = create(caller, "Experiment",
                             {{"name", name},
                              {"variants", json::array{{{"name", "Control"}, {"weight", 50}},
                                                       {{"name", "Treatment"}, {"weight", 50}}}},
                              {"primaryMetric", "purchase"}});
    std::string id(experiment.at("id").as_string());
    run(caller, "Experiment", "start", id);
    return id;
  }

  Engine engine_{test_support::fresh_store()};
  Caller a_;
  Caller b_;
};

TEST_F(ProjectsTest, SlugsAreUniquePerProjectAndIdsAcrossProjects) {
  auto in_a = create(a_, "Experiment", {{"name", "Pricing Page"}});
  auto in_b = create(b_, "Experiment", {{"name", "Pricing Page"}});
  EXPECT_EQ(in_a.at("slug"), "pricing-page");
  EXPECT_EQ(in_b.at("slug"), "pricing-page") << "a slug is unique within its project only";
  EXPECT_NE(in_a.at("id"), in_b.at("id"));
  EXPECT_EQ(engine_.get(a_, "Experiment", "pricing-page").at("id"), in_a.at("id"));
  EXPECT_EQ(engine_.get(b_, "Experiment", "pricing-page").at("id"), in_b.at("id"));
  auto second = create(a_, "Experiment", {{"name", "Pricing Page"}});
  EXPECT_EQ(second.at("slug"), "pricing-page-2");
  auto taken = error_of([&] {
    run(a_, "Experiment", "update", std::string(second.at("id").as_string()),
        {{"slug", "pricing-page"}});
  });
  EXPECT_EQ(taken.code(), ErrorCode::kConflict);
  EXPECT_EQ(taken.field(), "slug");
}

TEST_F(ProjectsTest, AnotherProjectsEntityIsNotFoundByIdSlugOrFilter) {
  std::string theirs = running_experiment(b_, "Checkout");
  run(b_, "Experiment", "assign", theirs, {{"unit", "u1"}});
  std::string before = digest(b_);

  for (const std::string& name : {theirs, std::string("checkout")}) {
    auto error = error_of([&] { engine_.get(a_, "Experiment", name); });
    EXPECT_EQ(error.code(), ErrorCode::kNotFound) << name;
    EXPECT_EQ(error.field(), "id");
    for (const char* verb :
         {"update", "pause", "conclude", "assign", "track", "analyze", "delete"}) {
      auto refused = error_of([&] {
        run(a_, "Experiment", verb, name, {{"unit", "u1"}, {"metric", "purchase"}});
      });
      EXPECT_EQ(refused.code(), ErrorCode::kNotFound) << verb << " " << name;
    }
  }
  FindQuery query;
  query.filter = {{"id", theirs}};
  EXPECT_TRUE(engine_.find(a_, "Experiment", query).items.empty());
  query.filter = {{"subject", theirs}};
  EXPECT_TRUE(engine_.find(a_, "Event", query).items.empty())
      << "exposures are Events of their project only";
  EXPECT_EQ(engine_.find(b_, "Event", query).items.size(), 1u);
  auto summary = run(a_, "Experiment", "summary").as_object();
  EXPECT_EQ(summary.at("total"), 0) << json::serialize(summary);
  EXPECT_EQ(digest(b_), before);
}

TEST_F(ProjectsTest, RelationsCannotCrossProjects) {
  auto theirs = create(b_, "Organization", {{"name", "Beta Org"}});
  std::string id(theirs.at("id").as_string());
  auto by_id = error_of([&] {
    create(a_, "Contact", {{"name", "Ann"}, {"organization", json::value(id)}});
  });
  EXPECT_EQ(by_id.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(by_id.field(), "organization") << by_id.what();
  FindQuery query;
  std::string experiment = running_experiment(b_, "Beta Only");
  query.filter = {{"subject", "beta-only"}};
  auto by_slug = error_of([&] { engine_.find(a_, "Event", query); });
  EXPECT_EQ(by_slug.field(), "filter.subject") << by_slug.what();
  auto event = error_of([&] { create(a_, "Event", {{"type", "x"}, {"subject", experiment}}); });
  EXPECT_EQ(event.code(), ErrorCode::kInvalidArgument);
  // Within its own project the relation works; elsewhere its id matches nothing.
  create(b_, "Contact", {{"name", "Bob"}, {"organization", json::value(id)}});
  query.filter = {{"organization", id}};
  EXPECT_EQ(engine_.find(b_, "Contact", query).items.size(), 1u);
  EXPECT_TRUE(engine_.find(a_, "Contact", query).items.empty());
}

TEST_F(ProjectsTest, HistoryAndEventsStayInTheirProjectAndNameTheKey) {
  Caller keyed = a_;
  keyed.key_id = "key_test1234";
  keyed.key_name = "ci-bot";
  keyed.role = Role::kWriter;
  auto mine = create(keyed, "Organization", {{"name", "Mine"}});
  create(b_, "Organization", {{"name", "Theirs"}});
  auto with_history = engine_.get(a_, "Organization", mine.at("id").as_string(), true);
  const auto& history = with_history.at("history").as_array();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].at("key").at("id"), "key_test1234");
  EXPECT_EQ(history[0].at("key").at("name"), "ci-bot");
  Store::Scope scope(engine_.store(), a_.project_id);
  auto events = engine_.store().events_since(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].entity_id, mine.at("id").as_string());
}

TEST_F(ProjectsTest, TheDefaultProjectIsTheOperatorsAndAlwaysExists) {
  auto projects = engine_.keys().projects();
  ASSERT_EQ(projects.size(), 3u);
  EXPECT_EQ(projects[0].slug, "default");
  create(Caller::local_operator(), "Organization", {{"name", "Old"}});
  EXPECT_EQ(engine_.find("Organization", {}).items.size(), 1u);
  EXPECT_TRUE(engine_.find(a_, "Organization", {}).items.empty());
  auto missing = error_of([&] { engine_.keys().operator_of("nope"); });
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  auto bad = error_of([&] { engine_.keys().create_project("Not A Slug", ""); });
  EXPECT_EQ(bad.field(), "slug");
  auto taken = error_of([&] { engine_.keys().create_project("acme", ""); });
  EXPECT_EQ(taken.code(), ErrorCode::kConflict);
}

// Each role against each verb: the verb's declared role decides, and a refusal names the roles
// that would do.
TEST_F(ProjectsTest, EveryVerbChecksTheCallersRole) {
  for (Role role : {Role::kEvaluator, Role::kReader, Role::kWriter, Role::kAdmin}) {
    // In default, where an admin may also create projects.
    Caller caller = Caller::local_operator();
    caller.role = role;
    caller.key_id = "key_role0000";
    for (const auto& noun : engine_.schema().nouns()) {
      for (const auto& verb : noun->verbs) {
        bool allowed = allows(role, verb.role);
        try {
          run(caller, noun->name, verb.name, "missing-entity");
          EXPECT_TRUE(allowed) << to_string(role) << " ran " << noun->name << "." << verb.name;
        } catch (const Error& error) {
          if (allowed) {
            EXPECT_NE(error.code(), ErrorCode::kUnauthorized) << error.what();
            continue;
          }
          EXPECT_EQ(error.code(), ErrorCode::kUnauthorized)
              << to_string(role) << " " << noun->name << "." << verb.name << ": " << error.what();
          EXPECT_EQ(error.field(), "role");
          EXPECT_NE(std::string(error.what()).find(to_string(verb.role)), std::string::npos)
              << error.what();
        }
      }
    }
  }
}

TEST_F(ProjectsTest, AdminsManageKeysOfTheirProjectThroughDo) {
  Caller admin = a_;
  admin.key_id = "key_admin000";
  auto created =
      run(admin, "Key", "create", {}, {{"role", "reader"}, {"name", "dash"}}).as_object();
  std::string secret(created.at("secret").as_string());
  auto caller = engine_.keys().authenticate(secret);
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->project_slug, "acme");
  auto listed = engine_.find(a_, "Key", {}).items;
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("name"), "dash");
  EXPECT_EQ(listed[0].at("role"), "reader");
  EXPECT_EQ(json::serialize(listed[0]).find(secret), std::string::npos) << "never readable";
  EXPECT_TRUE(engine_.find(b_, "Key", {}).items.empty()) << "another project's keys do not exist";
  std::string id(created.at("id").as_string());
  auto revoke_theirs = error_of([&] { run(b_, "Key", "revoke", id); });
  EXPECT_EQ(revoke_theirs.code(), ErrorCode::kNotFound);
  auto read = error_of([&] { engine_.find(*caller, "Key", {}); });
  EXPECT_EQ(read.code(), ErrorCode::kUnauthorized) << "keys are for admins";
  run(admin, "Key", "revoke", id);
  EXPECT_FALSE(engine_.keys().authenticate(secret));
  auto history = engine_.get(a_, "Key", id, true).at("history").as_array();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].at("type"), "Key.Revoked");
  EXPECT_EQ(history[1].at("key").at("id"), "key_admin000");
  auto project = error_of([&] { run(a_, "Project", "create", {}, {{"slug", "gamma"}}); });
  EXPECT_EQ(project.code(), ErrorCode::kUnauthorized) << "only the operator's admins add tenants";
  run(Caller::local_operator(), "Project", "create", {}, {{"slug", "gamma"}});
  FindQuery by_slug;
  by_slug.sort = {{"slug", "asc"}};
  std::vector<std::string> slugs;
  for (const auto& project : engine_.find(Caller::local_operator(), "Project", by_slug).items)
    slugs.emplace_back(project.at("slug").as_string());
  EXPECT_EQ(slugs, (std::vector<std::string>{"acme", "beta", "default", "gamma"}))
      << "the admins of default, where tenants are made, see every project";
  EXPECT_EQ(engine_.get(Caller::local_operator(), "Project", "gamma").at("slug"), "gamma");
  ASSERT_EQ(engine_.find(a_, "Project", {}).items.size(), 1u) << "other admins see their own";
  EXPECT_EQ(engine_.get(a_, "Project", "acme").at("slug"), "acme");
  EXPECT_THROW(engine_.get(a_, "Project", "gamma"), Error);
}

// --token-file's key comes and goes at server start, outside any verb: the audit trail still
// says when, as the shell's changes do.
TEST_F(ProjectsTest, TheTokenFilesKeyIsCreatedAndRetiredInTheEventLog) {
  Caller root = Caller::local_operator();
  access::adopt_token_file(engine_, "s3cret-token-0123");
  access::adopt_token_file(engine_, "s3cret-token-0123");
  access::adopt_token_file(engine_, "another-token-4567");
  auto keys = engine_.find(root, "Key", {}).items;
  ASSERT_EQ(keys.size(), 2u);
  // Ids are random and both keys may share a creation millisecond: tell them apart by state.
  if (!keys[0].contains("revokedAt")) std::swap(keys[0], keys[1]);
  ASSERT_TRUE(keys[0].contains("revokedAt")) << "the first token's key is retired";
  ASSERT_FALSE(keys[1].contains("revokedAt")) << "the second token's key is active";
  auto first = engine_.get(root, "Key", keys[0].at("id").as_string(), true).at("history");
  ASSERT_EQ(first.as_array().size(), 2u) << json::serialize(first) << " (adopted once, retired)";
  EXPECT_EQ(first.at(0).at("type"), "Key.Created");
  EXPECT_EQ(first.at(0).at("actor"), "cli");
  EXPECT_EQ(first.at(0).at("data").at("role"), "admin");
  EXPECT_EQ(first.at(1).at("type"), "Key.Revoked");
  EXPECT_EQ(first.at(1).at("actor"), "cli");
  auto second = engine_.get(root, "Key", keys[1].at("id").as_string(), true).at("history");
  ASSERT_EQ(second.as_array().size(), 1u);
  EXPECT_EQ(second.at(0).at("type"), "Key.Created");
}

TEST_F(ProjectsTest, RolesMatchTheIssue) {
  EXPECT_EQ(engine_.schema().noun("Experiment").verb("assign")->role, Role::kEvaluator);
  EXPECT_EQ(engine_.schema().noun("FeatureFlag").verb("evaluate")->role, Role::kEvaluator);
  EXPECT_EQ(engine_.schema().noun("Experiment").verb("analyze")->role, Role::kReader);
  EXPECT_EQ(engine_.schema().noun("Experiment").verb("track")->role, Role::kWriter);
  EXPECT_EQ(engine_.schema().noun("Experiment").verb("create")->role, Role::kWriter);

  std::string id = running_experiment(a_, "Roles");
  Caller evaluator = a_;
  evaluator.role = Role::kEvaluator;
  EXPECT_NO_THROW(run(evaluator, "Experiment", "assign", id, {{"unit", "u1"}}));
  auto find = error_of([&] { engine_.find(evaluator, "Experiment", {}); });
  EXPECT_EQ(find.code(), ErrorCode::kUnauthorized);
  EXPECT_NE(std::string(find.what()).find("reader"), std::string::npos) << find.what();
  auto track = error_of([&] {
    run(evaluator, "Experiment", "track", id, {{"unit", "u1"}, {"metric", "purchase"}});
  });
  EXPECT_NE(std::string(track.what()).find("writer"), std::string::npos) << track.what();

  Caller reader = a_;
  reader.role = Role::kReader;
  EXPECT_NO_THROW(engine_.get(reader, "Experiment", id));
  EXPECT_NO_THROW(run(reader, "Experiment", "analyze", id));
  auto assign = error_of([&] { run(reader, "Experiment", "assign", id, {{"unit", "u2"}}); });
  EXPECT_EQ(assign.code(), ErrorCode::kUnauthorized);
  EXPECT_NE(std::string(assign.what()).find("evaluator"), std::string::npos) << assign.what();
}

}  // namespace
}  // namespace verdict
