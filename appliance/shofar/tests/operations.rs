//! What an operator does to a running box: a backup while `shofar serve` runs is
//! made; a restore under it is refused, with what to do, and the database stays.

mod support;
use support::TestBox;

#[test]
fn a_backup_is_made_while_serving_and_a_restore_waits_for_serve_to_stop() {
    let test_box = TestBox::new(support::SIMULATED);
    test_box.campaign_around_the_clock("name = \"Winter\"\n", &support::generated_contacts(30, 3));
    let served = support::serve(&test_box);
    let copy = test_box.path("copy.db");
    test_box.ok(&["db", "backup", "-o", copy.to_str().unwrap()], "");

    let refused = test_box.run(&["db", "restore", copy.to_str().unwrap()], "");
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("shofar serve is running on it; stop it first"),
        "{said}"
    );
    served.stop();

    let restored = test_box.ok(&["db", "restore", copy.to_str().unwrap()], "");
    assert!(restored.contains("restored"), "{restored}");
    let list = test_box.ok(&["campaign", "list"], "");
    assert!(list.contains("Winter"), "{list}");
}
