//! User accounts, managed by server administrators.

use querent_domain::{Role, Secret, User, UserId, millis_to_rfc3339, now_millis};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::secrets::{self, check_password_policy};
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// A user on the wire (never the password hash).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: UserId,
    /// Username.
    pub username: String,
    /// E-mail.
    pub email: Option<String>,
    /// `admin` or `member`.
    pub role: Role,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            role: u.role,
            disabled: u.disabled,
            created_at: millis_to_rfc3339(u.created_at),
        }
    }
}

/// New user.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Username (3–64 characters: letters, digits, `._-@`).
    pub username: String,
    /// Initial password (at least 8 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret<String>,
    /// `admin` or `member` (default).
    pub role: Option<Role>,
    /// E-mail.
    pub email: Option<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New username.
    pub username: Option<String>,
    /// New e-mail.
    pub email: Option<String>,
    /// New server role.
    pub role: Option<Role>,
    /// Disable or enable the account (disabling ends its sessions).
    pub disabled: Option<bool>,
    /// Reset the password (ends the user's sessions).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password))]
    pub password: Option<Secret<String>>,
}

/// Checks a username; the message names the field.
pub fn validate_username(username: &str) -> ServiceResult<()> {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !(3..=64).contains(&username.chars().count()) || !ok_chars {
        return Err(ServiceError::validation(
            "username: must be 3–64 characters of letters, digits and . _ - @",
        ));
    }
    Ok(())
}

/// Checks an e-mail address (shape only); returns it trimmed.
pub fn validate_email(email: &str) -> ServiceResult<String> {
    let e = email.trim();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e.contains(char::is_whitespace);
    if !valid {
        return Err(ServiceError::validation(
            "email: is not a valid e-mail address",
        ));
    }
    Ok(e.to_owned())
}

impl App {
    /// A page of users (admin).
    pub async fn list_users(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<UserView>> {
        self.require_admin(actor)?;
        let page = params.page()?;
        let rows = self.store().list_users(&page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |u| u.id.to_string(),
            UserView::from,
        ))
    }

    /// One user (admin, or the user themself).
    pub async fn get_user(&self, actor: &Actor, id: UserId) -> ServiceResult<UserView> {
        if actor.user_id() != Some(id) {
            self.require_admin(actor)?;
        }
        Ok(self
            .store()
            .get_user(id)
            .await
            .or_not_found("user")?
            .0
            .into())
    }

    /// Creates a user (admin).
    pub async fn create_user(
        &self,
        actor: &Actor,
        req: CreateUserRequest,
    ) -> ServiceResult<UserView> {
        self.require_admin(actor)?;
        self.insert_new_user(&actor.audit_name(), actor.ip(), req)
            .await
    }

    /// Creates a user on behalf of the operator at the terminal (`querent admin
    /// create-user`); audited as `system`.
    pub async fn create_user_as_system(
        &self,
        username: &str,
        password: Secret<String>,
        role: Role,
    ) -> ServiceResult<UserView> {
        let req = CreateUserRequest {
            username: username.to_owned(),
            password,
            role: Some(role),
            email: None,
        };
        self.insert_new_user("system", None, req).await
    }

    async fn insert_new_user(
        &self,
        actor: &str,
        ip: Option<&str>,
        req: CreateUserRequest,
    ) -> ServiceResult<UserView> {
        validate_username(&req.username)?;
        check_password_policy("password", req.password.expose())?;
        let email = req.email.as_deref().map(validate_email).transpose()?;
        if self
            .store()
            .find_user_by_username(&req.username)
            .await?
            .is_some()
        {
            return Err(ServiceError::conflict(format!(
                "username: `{}` is already taken",
                req.username
            )));
        }
        let hash = secrets::hash_password(&req.password).await?;
        let user = User {
            id: UserId::new(),
            username: req.username,
            email,
            role: req.role.unwrap_or(Role::Member),
            disabled: false,
            token_epoch: 0,
            created_at: now_millis(),
        };
        self.store()
            .insert_user(&user, &hash)
            .await
            .or_conflict(|| "username: is already taken".into())?;
        self.audit(
            actor,
            ip,
            "user.create",
            Some(format!("user:{}", user.id)),
            Some(format!("role={}", user.role)),
        )
        .await;
        Ok(user.into())
    }

    /// Updates a user (admin). The last enabled admin cannot be demoted or disabled.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        req: UpdateUserRequest,
    ) -> ServiceResult<UserView> {
        self.require_admin(actor)?;
        let (mut user, _) = self.store().get_user(id).await.or_not_found("user")?;
        let was_active_admin = user.role == Role::Admin && !user.disabled;
        if let Some(name) = req.username {
            validate_username(&name)?;
            user.username = name;
        }
        if let Some(email) = req.email {
            user.email = Some(validate_email(&email)?);
        }
        if let Some(role) = req.role {
            user.role = role;
        }
        let mut end_sessions = false;
        if let Some(disabled) = req.disabled {
            end_sessions |= disabled && !user.disabled;
            user.disabled = disabled;
        }
        if was_active_admin
            && (user.role != Role::Admin || user.disabled)
            && self.store().count_active_admins().await? <= 1
        {
            return Err(ServiceError::conflict(
                "this is the last enabled administrator; it cannot be demoted or disabled",
            ));
        }
        if let Some(pw) = &req.password {
            check_password_policy("password", pw.expose())?;
        }
        self.store()
            .update_user(&user)
            .await
            .or_conflict(|| "username: is already taken".into())?;
        if let Some(pw) = req.password {
            let hash = secrets::hash_password(&pw).await?;
            self.store().set_password(id, &hash).await?;
        } else if end_sessions {
            self.store().revoke_all_sessions(id).await?;
        }
        self.audit_by(actor, "user.update", format!("user:{id}"), None)
            .await;
        Ok(self.store().get_user(id).await?.0.into())
    }

    /// Deletes a user (admin). Nobody can delete themself or the last enabled admin.
    pub async fn delete_user(&self, actor: &Actor, id: UserId) -> ServiceResult<()> {
        self.require_admin(actor)?;
        if actor.user_id() == Some(id) {
            return Err(ServiceError::conflict("you cannot delete your own account"));
        }
        let (user, _) = self.store().get_user(id).await.or_not_found("user")?;
        if user.role == Role::Admin
            && !user.disabled
            && self.store().count_active_admins().await? <= 1
        {
            return Err(ServiceError::conflict(
                "this is the last enabled administrator; it cannot be deleted",
            ));
        }
        self.store().delete_user(id).await.or_not_found("user")?;
        self.audit_by(actor, "user.delete", format!("user:{id}"), None)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_emails() {
        assert!(validate_username("alice").is_ok());
        assert!(validate_username("a.b-c_d@x").is_ok());
        assert!(validate_username("al").is_err());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("drop'table").is_err());
        assert_eq!(validate_email(" a@b.io ").unwrap(), "a@b.io");
        assert!(validate_email("nope").is_err());
        assert!(validate_email("a@b").is_err());
    }
}
