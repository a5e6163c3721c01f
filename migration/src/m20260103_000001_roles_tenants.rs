//! The role catalogue, tenants and tenant members.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20260101_000001_foundation::Apps, m20260102_000001_users_sessions::Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(uuid(Roles::Id).primary_key())
                    .col(uuid(Roles::AppId))
                    .col(string_len(Roles::Name, 64))
                    .col(string_len_null(Roles::DisplayName, 100))
                    .col(string_len_null(Roles::Description, 500))
                    .col(json(Roles::Permissions))
                    .col(boolean(Roles::IsSystem))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .col(timestamp_with_time_zone(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_roles_app_name")
                    .table(Roles::Table)
                    .col(Roles::AppId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(uuid(Tenants::Id).primary_key())
                    .col(uuid(Tenants::AppId))
                    .col(string_len(Tenants::Slug, 63))
                    .col(string_len(Tenants::Name, 200))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tenants::Table, Tenants::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_tenants_app_slug")
                    .table(Tenants::Table)
                    .col(Tenants::AppId)
                    .col(Tenants::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TenantMembers::Table)
                    .col(uuid(TenantMembers::TenantId))
                    .col(uuid(TenantMembers::UserId))
                    .col(uuid(TenantMembers::AppId))
                    .col(string_len(TenantMembers::Role, 64))
                    .col(timestamp_with_time_zone(TenantMembers::CreatedAt))
                    .col(timestamp_with_time_zone(TenantMembers::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(TenantMembers::TenantId)
                            .col(TenantMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantMembers::Table, TenantMembers::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantMembers::Table, TenantMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tenant_members_user")
                    .table(TenantMembers::Table)
                    .col(TenantMembers::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tenant_members_app_role")
                    .table(TenantMembers::Table)
                    .col(TenantMembers::AppId)
                    .col(TenantMembers::Role)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TenantMembers::Table.into_iden(),
            Tenants::Table.into_iden(),
            Roles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    AppId,
    Name,
    DisplayName,
    Description,
    Permissions,
    IsSystem,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Tenants {
    Table,
    Id,
    AppId,
    Slug,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TenantMembers {
    Table,
    TenantId,
    UserId,
    AppId,
    Role,
    CreatedAt,
    UpdatedAt,
}
