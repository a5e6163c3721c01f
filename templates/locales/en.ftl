# Heimdall's hosted pages and mail, in English: the reference catalog. Every other
# language has every message of this file (a unit test checks); an operator's
# HEIMDALL_TEMPLATES_DIR/locales/en.ftl overrides single messages.
# Variables: $app is the app's (or brand's) name.

language-name = English
language-picker = Language:
language-unknown = That language is not available.

## Shared
field-email = Email
field-password = Password
field-your-name = Your name
field-display-name = Display name
field-choose-password = Choose a password
field-repeat-password = Repeat the password
field-current-password = Current password
field-new-password = New password
field-repeat-new-password = Repeat the new password
field-totp-code = Code from your authenticator app
field-recovery-code = Recovery code
field-device-code = The code the device shows
continue = Continue
sign-out = Sign out
back-to-sign-in = Back to sign in
sign-in-again = Sign in again
password-hint = At least { $min } characters.
correct-marked-field = Please correct the marked field.
passwords-differ = The two passwords are not the same.

## Sign-in
login-title = Sign in to { $app }
login-forgot = Forgot your password?
login-submit = Sign in
login-passkey = Sign in with a passkey
login-or = or
login-continue-with = Continue with { $provider }
login-new-here = New to { $app }?
login-create-account = Create an account
login-wrong-credentials = The email or password is not correct.
login-provider-failed = Signing in with the provider did not work: { $reason }
signed-in-title = You are signed in
signed-in-message = You are signed in to { $app } as { $email }. You can close this page.

## Second factor
mfa-title = Second step — { $app }
mfa-heading = Confirm it is you
mfa-intro = Your account at { $app } is protected with a second factor.
mfa-webauthn = Use a passkey or security key
mfa-use-recovery = Use a recovery code
mfa-wrong-code = That did not work. Check the code and try again.
mfa-choose-method = Choose a way to confirm it is you.
mfa-expired-title = Sign in again
mfa-expired = This sign-in has expired or had too many wrong attempts. Go back and sign in again.
totp-wrong-code = That code did not work. Enter the current code from your authenticator app.
totp-qr-alt = QR code to scan with your authenticator app
totp-key = Or enter this key:
totp-turn-on = Turn on
enrol-title = Set up a second factor — { $app }
enrol-heading = Set up a second factor
enrol-intro = { $app } asks every account for a second factor. Add this account to an authenticator app, then enter the code it shows.
enrol-start-again = Start again
enrol-incomplete = The form is incomplete. Go back and sign in again.
recovery-title = Your recovery codes — { $app }
recovery-heading = Save your recovery codes
recovery-intro = If you lose your authenticator, each of these codes signs you in once. They are shown only now: write them down or store them in your password manager.
passkey-no-answer = The passkey did not answer. Go back and try again.

## Sign-up
signup-title = Create your { $app } account
signup-name-hint = Optional: how we greet you.
signup-submit = Create my account
signup-have-account = Already have an account?
signup-sign-in = Sign in
signup-exists = An account with this email already exists. Sign in, or reset its password.
signup-closed-title = Sign-up is closed
signup-closed = { $app } does not take new accounts here. Ask for an invitation.
check-mail-title = Check your mail
signup-check-mail = We sent a message to { $email }. Open the link in it to finish creating your { $app } account.

## Forgot and reset password
forgot-title = Forgot your password?
forgot-intro = Enter the email of your { $app } account. If it has one, we send it a link to choose a new password.
forgot-submit = Send me a link
forgot-check-mail = If { $email } has a { $app } account, we sent it a link to choose a new password. The link expires soon.
reset-title = Choose a new password
reset-for-account = for your { $app } account
reset-submit = Set the new password
reset-done-title = Your password has been changed
reset-done = You can now sign in to { $app } with your new password. For your safety, you have been signed out everywhere.

## Email verification
verify-title = Verify your email
verify-intro = Confirm this address for your { $app } account.
verify-submit = Verify my email
verify-done-title = Your email is verified
verify-done = Thank you: { $email } is verified for { $app }.

## Invitations
invite-title = Accept the invitation
invite-heading = Join { $app }
invite-intro = You have been invited. Create your account to accept.
invite-submit = Create my account
invite-done-title = Welcome aboard
invite-done = Your { $app } account ({ $email }) is ready. You can now sign in with your new password.

## Consent and devices
consent-title = Allow { $client }?
consent-heading = { $client } wants to access your { $app } account
consent-able-to = It will be able to:
consent-allow = Allow
consent-deny = Deny
consent-website = Website
consent-privacy = Privacy policy
consent-terms = Terms of service
consent-choose = Choose Allow or Deny.
consent-incomplete = The consent page needs the authorization request it is about.
device-title = Connect a device
device-heading = Connect a device to your { $app } account
device-check-code = Check that the device shows this code:
device-connected-title = Device connected
device-connected = { $client } is now connected. You can go back to the device.
device-denied-title = Request denied
device-denied = The device was not given access. You can close this page.
device-session-ended = Your session has ended. Open the device page again and sign in.

## Account
account-title = Your { $app } account
account-back = Back to your account
account-profile = Profile
account-save = Save
account-change-password = Change password
account-password-hint = At least { $min } characters. Your other sessions are signed out.
account-sessions = Where you are signed in
account-this-browser = this browser
account-since = since { $when }
account-unknown-device = Unknown device
account-identities = Linked sign-in providers
account-unlink = Unlink
account-factors = Second factors
account-added = added { $when }
account-remove = Remove
account-recovery-left =
    { $count ->
        [one] 1 recovery code left.
       *[other] { $count } recovery codes left.
    }
account-no-factor = No second factor yet.
account-add-totp = Add an authenticator app
account-new-codes = New recovery codes
account-apps = Apps you allowed
account-revoke = Revoke
account-kind-totp = Authenticator app
account-kind-webauthn = Passkey or security key
account-done-profile = Your profile is saved.
account-done-password = Your password is changed. Your other sessions are signed out.
account-done-session = That session is signed out.
account-done-identity = The provider is unlinked.
account-done-factor = The second factor is removed.
account-done-totp = Your authenticator app is set up.
account-done-passkey = Your passkey is added.
account-passkey-name = Passkey name
account-passkey-name-hint = For example the device it is on.
account-add-passkey = Add a passkey
account-done-consent = The app's access is revoked.
totp-add-title = Add an authenticator app — { $app }
totp-add-heading = Add an authenticator app

## Signing out
logout-title = Sign out of { $app }?
logout-client-asks = { $client } asks to sign you out.
logout-app-asks = An app asks to sign you out.
logout-signed-in-as = You are signed in as { $email }.
signed-out-title = You are signed out
signed-out = You have signed out of { $app }.
logout-bad-title = This sign-out link is not valid
logout-not-form = The sign-out request must be a form (application/x-www-form-urlencoded).
logout-malformed = The sign-out request's parameters are malformed.

## Messages and errors
not-signed-in-title = You are not signed in
session-ended = Your session has ended. Sign in again.
consent-session-ended = Your session has ended. Go back to the app and sign in again.
bad-link-title = This link is not valid
bad-return-to = The address to return to after signing in must be a page of this app.
bad-return-address = The address to return to is not valid.
incomplete-link-title = This link is incomplete
missing-token = The link has no token. Open the link from your email again, without changing it.
authorize-failed-title = This sign-in request cannot be completed
form-expired-title = This form has expired
form-expired = The form could not be verified (its security token is missing or does not match). Go back, reload the page and try again.
error-gone = This link is no longer valid
error-not-found = Not found
error-forbidden = Not allowed
error-conflict = Already done
error-rate-limited = Too many attempts
error-bad-request = Something is not right
error-internal = Something went wrong
error-try-later = Please try again later.

## Field errors of the services (shown next to the field)
problem-required = This field is required.
problem-email = This is not an email address.
problem-control = This must not contain control characters.
problem-incorrect = This is not correct.
problem-password-same = This is not the same as the new password.
problem-too-long = This is too long.
problem-min = Use at least { $n } characters.
problem-max = Use at most { $n } characters.

## Mail
mail-hi = Hi { $name },
mail-reset-subject = Reset your { $app } password
mail-reset-body = Someone asked to reset the password of your { $app } account. To choose a new password, open this link:
mail-reset-link = Reset my password
mail-reset-footer = The link works once and expires soon. If you did not ask for this, ignore this mail: your password stays as it is.
mail-verify-subject = Verify your email for { $app }
mail-verify-body = Please confirm that this is your email address for { $app }:
mail-verify-body-text = Please confirm that this is your email address for { $app } by opening this link:
mail-verify-footer = If you did not create an account, ignore this mail.
mail-invite-subject = You have been invited to { $app }
mail-invite-body = You have been invited to join { $app }.
mail-invite-body-text = You have been invited to join { $app }. To accept, open this link:
mail-invite-link = Accept the invitation
mail-exists-subject = Someone tried to sign up to { $app } with your address
mail-exists-body = Someone (maybe you) tried to create a { $app } account with this address, but you already have one. To sign in, open this link:
mail-exists-footer = If you forgot your password, choose “Forgot your password?” there. If this was not you, ignore this mail: nothing has changed.
