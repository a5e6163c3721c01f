//! The users list filtered by role or status, in id order, at scale: `(app_id, role,
//! id)` and `(app_id, status, id)` serve a filtered page without reading the app's
//! other users or sorting (a rare role or `deactivated` among a million users would
//! otherwise walk them all). `(app_id, role)` goes: the new index has it as a prefix.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    AppId,
    Role,
    Status,
    Id,
}

fn by(name: &str, column: Users) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Users::Table)
        .col(Users::AppId)
        .col(column)
        .col(Users::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(by("idx_users_app_role_id", Users::Role))
            .await?;
        manager
            .create_index(by("idx_users_app_status_id", Users::Status))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_app_role")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_users_app_role")
                    .table(Users::Table)
                    .col(Users::AppId)
                    .col(Users::Role)
                    .to_owned(),
            )
            .await?;
        for name in ["idx_users_app_status_id", "idx_users_app_role_id"] {
            manager
                .drop_index(Index::drop().name(name).table(Users::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
