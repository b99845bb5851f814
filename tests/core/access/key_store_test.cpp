#include "core/access/key_store.hpp"

#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::access {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  KeyStoreTest() { keys().create_project("acme", "Acme Inc"); }
  KeyStore& keys() { return engine_.keys(); }
  Engine engine_{test_support::fresh_store()};
};

TEST_F(KeyStoreTest, ASecretAuthenticatesToItsProjectKeyAndRole) {
  NewKey created = keys().create_key("acme", Role::kWriter, "ci-bot");
  EXPECT_TRUE(created.secret.starts_with("vk_"));
  EXPECT_GE(created.secret.size(), 40u);
  auto caller = keys().authenticate(created.secret);
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->project_slug, "acme");
  EXPECT_EQ(caller->project_id, keys().project("acme").id);
  EXPECT_EQ(caller->key_id, created.key.id);
  EXPECT_EQ(caller->key_name, "ci-bot");
  EXPECT_EQ(caller->role, Role::kWriter);
  std::string wrong = created.secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(keys().authenticate(wrong));
  EXPECT_FALSE(keys().authenticate(""));
  EXPECT_FALSE(keys().authenticate(created.secret.substr(0, 20)));
}

TEST_F(KeyStoreTest, OnlyTheDigestIsStored) {
  NewKey created = keys().create_key("acme", Role::kAdmin, "");
  EXPECT_EQ(created.key.name, created.key.id) << "an unnamed key is named by its id";
  auto rows = engine_.store().db().prepare(
      "SELECT id, project, name, role, hint, lookup, secret_sha256, created_at FROM api_key");
  ASSERT_TRUE(rows.step());
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(rows.column_text(i).find(created.secret), std::string::npos) << "column " << i;
  auto digest = engine_.store().db().prepare("SELECT secret_sha256 FROM api_key");
  ASSERT_TRUE(digest.step());
  EXPECT_EQ(digest.column_text(0), sha256_hex(created.secret));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(KeyStoreTest, RevocationEndsAKeyAndMovesTheGeneration) {
  NewKey created = keys().create_key("acme", Role::kReader, "dashboard");
  KeyGeneration before = keys().generation();
  EXPECT_EQ(keys().generation(), before) << "nothing changed, so the cached check holds";
  EXPECT_TRUE(keys().active(created.key.id));
  auto revoked = keys().revoke(created.key.id);
  EXPECT_FALSE(revoked.revoked_at.empty());
  EXPECT_NE(keys().generation(), before);
  EXPECT_FALSE(keys().active(created.key.id));
  EXPECT_FALSE(keys().authenticate(created.secret));
  EXPECT_THROW(keys().revoke("key_nothere1"), Error);
  EXPECT_THROW(keys().revoke(created.key.id, "default"), Error)
      << "a project's admin cannot revoke another project's key";
  auto listed = keys().keys("acme");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_FALSE(listed[0].revoked_at.empty());
}

TEST_F(KeyStoreTest, TheTokenFileBecomesAnAdminKeyOfDefault) {
  auto adopted = keys().adopt_secret("s3cret-token-0123", "token-file");
  EXPECT_TRUE(adopted.created);
  auto again = keys().adopt_secret("s3cret-token-0123", "token-file");
  EXPECT_EQ(again.key.id, adopted.key.id) << "adopting the same token again keeps its key";
  EXPECT_FALSE(again.created);
  EXPECT_TRUE(again.retired.empty());
  auto caller = keys().authenticate("s3cret-token-0123");
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->project_slug, "default");
  EXPECT_EQ(caller->role, Role::kAdmin);
  auto changed = keys().adopt_secret("another-token-4567", "token-file");
  EXPECT_FALSE(keys().authenticate("s3cret-token-0123")) << "a changed token file retires the old";
  EXPECT_TRUE(keys().authenticate("another-token-4567"));
  ASSERT_EQ(changed.retired.size(), 1u);
  EXPECT_EQ(changed.retired[0].id, adopted.key.id);
}

// The adopted key is told apart by its marker, not by its name: a key an admin chose to call
// `token-file` survives a restart with a token file, and survives being renamed around it.
TEST_F(KeyStoreTest, AKeyMerelyNamedTokenFileIsNotRetired) {
  NewKey named = keys().create_key("default", Role::kReader, "token-file");
  auto adopted = keys().adopt_secret("s3cret-token-0123", "token-file");
  EXPECT_TRUE(adopted.retired.empty());
  EXPECT_NE(adopted.key.id, named.key.id);
  EXPECT_TRUE(keys().authenticate(named.secret)) << "a user's key named token-file still works";
  keys().adopt_secret("another-token-4567", "token-file");
  EXPECT_TRUE(keys().authenticate(named.secret));
  EXPECT_FALSE(keys().authenticate("s3cret-token-0123"));
}

TEST_F(KeyStoreTest, BadInputNamesTheField) {
  try {
    keys().create_key("nope", Role::kReader, "x");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
    EXPECT_EQ(error.field(), "project");
  }
  try {
    keys().create_key("acme", Role::kReader, std::string(200, 'n'));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "name");
  }
}

}  // namespace
}  // namespace verdict::access
