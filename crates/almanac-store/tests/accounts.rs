use almanac_model::{AccountStatus, EventInput, Importance, Provider, ShowAs};
use almanac_store::{SignedIn, Source, Store, StoreError};
use chrono::{DateTime, Utc};

fn ok<T>(r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default()
}

fn adele(subject: &str) -> SignedIn {
    SignedIn {
        provider: Provider::Microsoft,
        subject: subject.into(),
        email: "adele@contoso.example".into(),
        display_name: "Adele Vance".into(),
        authority: "https://login.microsoftonline.com/common".into(),
    }
}

fn event_in(calendar: &str) -> EventInput {
    EventInput {
        calendar_id: calendar.into(),
        title: "Renewal call".into(),
        all_day: false,
        start: "2026-11-23T09:00".into(),
        end: "2026-11-23T10:00".into(),
        time_zone: "Europe/Berlin".into(),
        recurrence: None,
        location: String::new(),
        description: String::new(),
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        categories: vec![],
    }
}

#[test]
fn signing_in_again_reconnects_the_same_account_instead_of_duplicating_it() {
    let dir = ok_dir();
    let mut s = ok(Store::open_at(dir.path()));
    let (a, created) = ok(s.record_sign_in(&adele("tid/oid-1"), 100));
    assert!(created);
    assert_eq!(a.status, AccountStatus::Connected);
    ok(s.set_account_status(
        &a.id,
        AccountStatus::ActionRequired,
        Some("action_required"),
        Some("Sign in again"),
    ));
    let mut again = adele("tid/oid-1");
    again.email = "adele.vance@contoso.example".into();
    let (b, created) = ok(s.record_sign_in(&again, 200));
    assert!(!created);
    assert_eq!(b.id, a.id);
    assert_eq!(b.status, AccountStatus::Connected);
    assert_eq!(b.status_message, None);
    assert_eq!(b.email, "adele.vance@contoso.example");
    assert_eq!(b.created_at, 100);
    // A different subject is a different account, even with the same e-mail.
    let (c, created) = ok(s.record_sign_in(&adele("tid/oid-2"), 300));
    assert!(created);
    assert_ne!(c.id, a.id);
    assert_eq!(ok(s.list_accounts()).len(), 2);
}

#[test]
fn action_required_notifies_once_until_the_account_is_connected_again() {
    let dir = ok_dir();
    let mut s = ok(Store::open_at(dir.path()));
    let (a, _) = ok(s.record_sign_in(&adele("x"), 1));
    let ar = |s: &mut Store| {
        ok(s.set_account_status(
            &a.id,
            AccountStatus::ActionRequired,
            Some("action_required"),
            Some("Microsoft 365 asks you to sign in again."),
        ))
        .notify_action_required
    };
    assert!(ar(&mut s));
    assert!(!ar(&mut s), "a second failure must not notify again");
    ok(s.set_account_status(
        &a.id,
        AccountStatus::Error,
        Some("offline"),
        Some("Offline"),
    ));
    assert!(!ar(&mut s));
    let got = ok(s.account(&a.id));
    assert_eq!(got.status, AccountStatus::ActionRequired);
    assert_eq!(
        got.status_message.as_deref(),
        Some("Microsoft 365 asks you to sign in again.")
    );
    ok(s.set_account_status(&a.id, AccountStatus::Connected, None, None));
    assert!(ar(&mut s), "a new loss of the grant is news again");
}

#[test]
fn removing_an_account_deletes_its_mirror_and_nothing_else() {
    let dir = ok_dir();
    let (id, other) = {
        let mut s = ok(Store::open_at(dir.path()));
        let (a, _) = ok(s.record_sign_in(&adele("a"), 1));
        let mut g = adele("b");
        g.provider = Provider::Google;
        let (b, _) = ok(s.record_sign_in(&g, 1));
        (a.id, b.id)
    };
    // Calendars of both accounts, as sync will create them.
    {
        let c = rusqlite::Connection::open(dir.path().join(almanac_store::DB_FILE_NAME))
            .unwrap_or_else(|e| panic!("{e}"));
        for (cal, acct) in [("cal-a", &id), ("cal-b", &other)] {
            c.execute(
                "INSERT INTO calendars (id, account_id, remote_id, name, color)
                 VALUES (?1, ?2, ?1, 'Calendar', '#000000')",
                rusqlite::params![cal, acct],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let mut s = ok(Store::open_at(dir.path()));
    let ea = ok(s.create_event(event_in("cal-a"), Source::Cli, now()));
    let eb = ok(s.create_event(event_in("cal-b"), Source::Cli, now()));
    let el = ok(s.create_event(event_in("local"), Source::Cli, now()));
    let removed = ok(s.remove_account(&id));
    assert_eq!(removed.id, id);
    assert!(matches!(s.get_event(&ea.id), Err(StoreError::NotFound(_))));
    ok(s.get_event(&eb.id));
    ok(s.get_event(&el.id));
    let cals: Vec<String> = ok(s.list_calendars()).into_iter().map(|c| c.id).collect();
    assert_eq!(cals, vec!["local".to_string(), "cal-b".to_string()]);
    assert!(ok(s.check()).is_empty());
    let err = s.remove_account(&id).expect_err("already removed");
    assert!(err.to_string().contains("almanac accounts list"), "{err}");
}

fn ok_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}
