//! [`Role`]: what a column of a MessagePack table is, as inference marks it in the field's
//! metadata ([`ROLE_KEY`]) and the decoder, the scan's filter and `mpq schema` read it. A
//! field without a role is a record key.

use datafusion::arrow::datatypes::Field;

/// Field metadata key that marks the reserved columns; fields without it are record keys.
pub const ROLE_KEY: &str = "mpq.role";

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A record key (a field without a role).
    Key,
    /// The event time of event layouts (`time`).
    EventTime,
    /// The tag (forward layout, buffer chunks with a sidecar).
    Tag,
    /// Fluent Bit metadata.
    Metadata,
    /// The whole top-level value of the values layout (`value`).
    Value,
    /// Pairs that did not fit (`_extra`).
    Extra,
    /// The whole record (`_record`).
    Record,
    /// The raw bytes of records that had a record error (`_corrupt_record`).
    Corrupt,
    /// The key of a SequenceFile record (`key`).
    RowKey,
}

/// Every role, in the order [`Roles`] numbers them.
const ROLES: [Role; 9] = [
    Role::Key,
    Role::EventTime,
    Role::Tag,
    Role::Metadata,
    Role::Value,
    Role::Extra,
    Role::Record,
    Role::Corrupt,
    Role::RowKey,
];

impl Role {
    /// The value of [`ROLE_KEY`] that marks the role (`None` for record keys, which are not
    /// marked).
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Role::Key => None,
            Role::EventTime => Some("event_time"),
            Role::Tag => Some("tag"),
            Role::Metadata => Some("metadata"),
            Role::Value => Some("value"),
            Role::Extra => Some("extra"),
            Role::Record => Some("record"),
            Role::Corrupt => Some("corrupt"),
            Role::RowKey => Some("row_key"),
        }
    }

    /// The role of a field of a table schema. An unknown mark is read as a record key.
    pub fn of(f: &Field) -> Role {
        let Some(name) = f.metadata().get(ROLE_KEY) else { return Role::Key };
        ROLES.into_iter().find(|r| r.name() == Some(name.as_str())).unwrap_or(Role::Key)
    }

    /// `f` marked with this role.
    pub fn mark(self, f: Field) -> Field {
        let Some(name) = self.name() else { return f };
        let mut md = f.metadata().clone();
        md.insert(ROLE_KEY.to_string(), name.to_string());
        f.with_metadata(md)
    }

    /// Whether the column comes from a record's own bytes alone, so it can be decoded later
    /// than the others for the same record (record keys, `value`, `_extra`, `_record`,
    /// `_corrupt_record`; not the event time or tag, whose problems only the first decoding
    /// of a record reports).
    pub fn from_record_bytes(self) -> bool {
        matches!(self, Role::Key | Role::Value | Role::Extra | Role::Record | Role::Corrupt)
    }
}

/// A set of roles: which ones the columns of a projection hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles(u16);

impl Roles {
    /// Whether the set holds `role`.
    #[inline]
    pub fn has(self, role: Role) -> bool {
        self.0 & (1 << role as u16) != 0
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(roles: I) -> Self {
        Roles(roles.into_iter().fold(0, |bits, r| bits | 1 << r as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn roles_round_trip_through_field_metadata() {
        for r in ROLES {
            let f = r.mark(Field::new("x", DataType::Binary, true));
            assert_eq!(Role::of(&f), r);
            let set: Roles = [r].into_iter().collect();
            assert!(ROLES.iter().all(|&o| set.has(o) == (o == r)));
        }
        assert_eq!(Role::of(&Field::new("x", DataType::Int64, true)), Role::Key);
    }
}
