//! Relay connections over the cursor pages of `db`.

use async_graphql::{
    OutputType,
    connection::{Connection, Edge},
};
use uuid::Uuid;

use crate::db::{Page, encode_cursor};

/// Turns a page into a connection; `had_cursor` tells whether earlier items exist.
pub fn connection<T, U: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    id_of: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> U,
) -> Connection<String, U> {
    let mut connection = Connection::new(had_cursor, page.next_cursor.is_some());
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(encode_cursor(id_of(&item)), node(item))),
    );
    connection
}
