//! The SCIM discovery documents (RFC 7644 §4): `ServiceProviderConfig`,
//! `ResourceTypes` and `Schemas`, describing what Heimdall's SCIM service supports.

use serde_json::{Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, MAX_RESULTS, USER_SCHEMA};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM bearer token",
            "description": "An hm_scim_ token minted with POST /v1/apps/{app}/scim-tokens",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(base: &str, name: &str) -> Option<Value> {
    let (endpoint, schema, description, extensions) = match name {
        "User" => (
            "/Users",
            USER_SCHEMA,
            "The app's users",
            json!([{ "schema": ENTERPRISE_SCHEMA, "required": false }]),
        ),
        "Group" => ("/Groups", GROUP_SCHEMA, "The app's tenants", json!([])),
        _ => return None,
    };
    Some(json!({
        "schemas": [RT_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{name}"),
        },
    }))
}

pub fn resource_type_by_name(base: &str, name: &str) -> Option<Value> {
    resource_type(base, name)
}

pub fn resource_types(base: &str) -> Value {
    let items: Vec<Value> = ["User", "Group"]
        .iter()
        .filter_map(|n| resource_type(base, n))
        .collect();
    list(items)
}

fn list(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

fn attr(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn with(mut value: Value, changes: Value) -> Value {
    if let (Value::Object(map), Value::Object(changes)) = (&mut value, changes) {
        map.extend(changes);
    }
    value
}

fn user_schema(base: &str) -> Value {
    let name_parts = [
        "formatted",
        "familyName",
        "givenName",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
    ]
    .iter()
    .map(|n| attr(n, "string", "A part of the user's name"))
    .collect::<Vec<_>>();
    let email_parts = vec![
        with(
            attr("value", "string", "An email address"),
            json!({ "required": true }),
        ),
        with(
            attr("type", "string", "work, home or other"),
            json!({ "canonicalValues": ["work", "home", "other"] }),
        ),
        attr(
            "primary",
            "boolean",
            "The primary address (the user's email)",
        ),
        attr("display", "string", "A display form"),
    ];
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A user of the app",
        "attributes": [
            with(attr("userName", "string", "The user's email address, or an identifier kept beside it"),
                 json!({ "required": true, "uniqueness": "server" })),
            with(attr("name", "complex", "The user's name"), json!({ "subAttributes": name_parts })),
            attr("displayName", "string", "The user's display name"),
            attr("nickName", "string", "A casual name"),
            attr("title", "string", "The user's title"),
            attr("userType", "string", "The user's relation to the organization"),
            attr("preferredLanguage", "string", "The preferred language"),
            attr("locale", "string", "The user's locale"),
            attr("timezone", "string", "The user's time zone"),
            // Required: every user is either active or deactivated (POST defaults to true).
            with(attr("active", "boolean", "Whether the user may sign in (false: deactivated)"),
                 json!({ "required": true })),
            with(attr("password", "string", "A new password"),
                 json!({ "mutability": "writeOnly", "returned": "never" })),
            // Required: every Heimdall user has an email (the primary, or first, one).
            with(attr("emails", "complex", "Email addresses; the primary one is the user's email"),
                 json!({ "multiValued": true, "required": true, "subAttributes": email_parts })),
            with(attr("groups", "complex", "The tenants the user is a member of"),
                 json!({ "multiValued": true, "mutability": "readOnly", "subAttributes": [
                     with(attr("value", "string", "The tenant id"), json!({ "mutability": "readOnly" })),
                     with(attr("$ref", "reference", "The group's URI"),
                          json!({ "mutability": "readOnly", "referenceTypes": ["Group"] })),
                     with(attr("display", "string", "The tenant's name"), json!({ "mutability": "readOnly" })),
                     with(attr("type", "string", "direct"), json!({ "mutability": "readOnly" })),
                 ]})),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{USER_SCHEMA}"),
        },
    })
}

fn enterprise_schema(base: &str) -> Value {
    let attributes: Vec<Value> = [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
    ]
    .iter()
    .map(|n| attr(n, "string", "Kept as sent"))
    .collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise user attributes, kept as sent",
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{ENTERPRISE_SCHEMA}"),
        },
    })
}

fn group_schema(base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A tenant of the app",
        "attributes": [
            with(attr("displayName", "string", "The tenant's name"), json!({ "required": true })),
            with(attr("members", "complex", "The tenant's members (users)"), json!({
                "multiValued": true,
                "subAttributes": [
                    with(attr("value", "string", "The user id"), json!({ "mutability": "immutable" })),
                    with(attr("$ref", "reference", "The user's URI"),
                         json!({ "mutability": "immutable", "referenceTypes": ["User"] })),
                    with(attr("type", "string", "User"),
                         json!({ "mutability": "immutable", "canonicalValues": ["User"] })),
                ],
            })),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{GROUP_SCHEMA}"),
        },
    })
}

/// The schemas of the discovery documents themselves (RFC 7643 §5-7), in short.
fn meta_schema(base: &str, id: &str, name: &str, attributes: &[(&str, &str)]) -> Value {
    let attributes: Vec<Value> = attributes
        .iter()
        .map(|(n, kind)| {
            with(
                attr(n, kind, "See RFC 7643"),
                json!({ "mutability": "readOnly" }),
            )
        })
        .collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": format!("The {name} schema (RFC 7643)"),
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{id}"),
        },
    })
}

fn all(base: &str) -> Vec<Value> {
    vec![
        user_schema(base),
        enterprise_schema(base),
        group_schema(base),
        meta_schema(
            base,
            SPC_SCHEMA,
            "ServiceProviderConfig",
            &[("documentationUri", "reference")],
        ),
        meta_schema(
            base,
            RT_SCHEMA,
            "ResourceType",
            &[
                ("name", "string"),
                ("description", "string"),
                ("endpoint", "reference"),
                ("schema", "reference"),
            ],
        ),
        meta_schema(
            base,
            SCHEMA_SCHEMA,
            "Schema",
            &[("name", "string"), ("description", "string")],
        ),
    ]
}

pub fn schemas(base: &str) -> Value {
    list(all(base))
}

pub fn schema_by_id(base: &str, id: &str) -> Option<Value> {
    all(base)
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
}
