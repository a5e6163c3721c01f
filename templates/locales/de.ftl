# Heimdall's hosted pages and mail, in German (Deutsch). Keys as in en.ftl.

language-name = Deutsch
language-picker = Sprache:
language-unknown = Diese Sprache ist nicht verfügbar.

## Shared
field-email = E-Mail
field-password = Passwort
field-your-name = Ihr Name
field-display-name = Anzeigename
field-choose-password = Wählen Sie ein Passwort
field-repeat-password = Passwort wiederholen
field-current-password = Aktuelles Passwort
field-new-password = Neues Passwort
field-repeat-new-password = Neues Passwort wiederholen
field-totp-code = Code aus Ihrer Authenticator-App
field-recovery-code = Wiederherstellungscode
field-device-code = Der Code, den das Gerät anzeigt
continue = Weiter
sign-out = Abmelden
back-to-sign-in = Zurück zur Anmeldung
sign-in-again = Erneut anmelden
password-hint = Mindestens { $min } Zeichen.
correct-marked-field = Bitte korrigieren Sie das markierte Feld.
passwords-differ = Die beiden Passwörter stimmen nicht überein.

## Sign-in
login-title = Bei { $app } anmelden
login-forgot = Passwort vergessen?
login-submit = Anmelden
login-passkey = Mit einem Passkey anmelden
login-or = oder
login-continue-with = Weiter mit { $provider }
login-new-here = Neu bei { $app }?
login-create-account = Konto erstellen
login-wrong-credentials = E-Mail oder Passwort ist nicht korrekt.
login-provider-failed = Die Anmeldung über den Anbieter hat nicht funktioniert: { $reason }
signed-in-title = Sie sind angemeldet
signed-in-message = Sie sind bei { $app } als { $email } angemeldet. Sie können diese Seite schließen.

## Second factor
mfa-title = Zweiter Schritt — { $app }
mfa-heading = Bestätigen Sie, dass Sie es sind
mfa-intro = Ihr Konto bei { $app } ist mit einem zweiten Faktor geschützt.
mfa-webauthn = Passkey oder Sicherheitsschlüssel verwenden
mfa-use-recovery = Wiederherstellungscode verwenden
mfa-wrong-code = Das hat nicht funktioniert. Prüfen Sie den Code und versuchen Sie es erneut.
mfa-choose-method = Wählen Sie, wie Sie bestätigen möchten, dass Sie es sind.
mfa-expired-title = Erneut anmelden
mfa-expired = Diese Anmeldung ist abgelaufen oder hatte zu viele Fehlversuche. Gehen Sie zurück und melden Sie sich erneut an.
totp-wrong-code = Dieser Code hat nicht funktioniert. Geben Sie den aktuellen Code aus Ihrer Authenticator-App ein.
totp-qr-alt = QR-Code zum Scannen mit Ihrer Authenticator-App
totp-key = Oder geben Sie diesen Schlüssel ein:
totp-turn-on = Einschalten
enrol-title = Zweiten Faktor einrichten — { $app }
enrol-heading = Zweiten Faktor einrichten
enrol-intro = { $app } verlangt für jedes Konto einen zweiten Faktor. Fügen Sie dieses Konto einer Authenticator-App hinzu und geben Sie dann den angezeigten Code ein.
enrol-start-again = Von vorn beginnen
enrol-incomplete = Das Formular ist unvollständig. Gehen Sie zurück und melden Sie sich erneut an.
recovery-title = Ihre Wiederherstellungscodes — { $app }
recovery-heading = Speichern Sie Ihre Wiederherstellungscodes
recovery-intro = Wenn Sie Ihren Authenticator verlieren, meldet Sie jeder dieser Codes einmal an. Sie werden nur jetzt angezeigt: Schreiben Sie sie auf oder speichern Sie sie in Ihrem Passwortmanager.
passkey-no-answer = Der Passkey hat nicht geantwortet. Gehen Sie zurück und versuchen Sie es erneut.

## Sign-up
signup-title = Ihr { $app }-Konto erstellen
signup-name-hint = Optional: wie wir Sie ansprechen.
signup-submit = Mein Konto erstellen
signup-have-account = Sie haben schon ein Konto?
signup-sign-in = Anmelden
signup-exists = Mit dieser E-Mail gibt es bereits ein Konto. Melden Sie sich an oder setzen Sie das Passwort zurück.
signup-closed-title = Die Registrierung ist geschlossen
signup-closed = { $app } nimmt hier keine neuen Konten an. Bitten Sie um eine Einladung.
check-mail-title = Sehen Sie in Ihr Postfach
signup-check-mail = Wir haben eine Nachricht an { $email } gesendet. Öffnen Sie den Link darin, um Ihr { $app }-Konto fertig einzurichten.

## Forgot and reset password
forgot-title = Passwort vergessen?
forgot-intro = Geben Sie die E-Mail Ihres { $app }-Kontos ein. Falls es existiert, senden wir einen Link, mit dem Sie ein neues Passwort wählen.
forgot-submit = Link senden
forgot-check-mail = Falls { $email } ein { $app }-Konto hat, haben wir einen Link zum Wählen eines neuen Passworts gesendet. Der Link läuft bald ab.
reset-title = Neues Passwort wählen
reset-for-account = für Ihr { $app }-Konto
reset-submit = Neues Passwort speichern
reset-done-title = Ihr Passwort wurde geändert
reset-done = Sie können sich jetzt mit Ihrem neuen Passwort bei { $app } anmelden. Zu Ihrer Sicherheit wurden Sie überall abgemeldet.

## Email verification
verify-title = E-Mail bestätigen
verify-intro = Bestätigen Sie diese Adresse für Ihr { $app }-Konto.
verify-submit = Meine E-Mail bestätigen
verify-done-title = Ihre E-Mail ist bestätigt
verify-done = Danke: { $email } ist für { $app } bestätigt.

## Invitations
invite-title = Einladung annehmen
invite-heading = { $app } beitreten
invite-intro = Sie wurden eingeladen. Erstellen Sie Ihr Konto, um anzunehmen.
invite-submit = Mein Konto erstellen
invite-done-title = Willkommen an Bord
invite-done = Ihr { $app }-Konto ({ $email }) ist bereit. Sie können sich jetzt mit Ihrem neuen Passwort anmelden.

## Consent and devices
consent-title = { $client } erlauben?
consent-heading = { $client } möchte auf Ihr { $app }-Konto zugreifen
consent-able-to = Es wird Folgendes können:
consent-allow = Erlauben
consent-deny = Ablehnen
consent-website = Website
consent-privacy = Datenschutzerklärung
consent-terms = Nutzungsbedingungen
consent-choose = Wählen Sie Erlauben oder Ablehnen.
consent-incomplete = Die Zustimmungsseite braucht die Autorisierungsanfrage, um die es geht.
device-title = Gerät verbinden
device-heading = Ein Gerät mit Ihrem { $app }-Konto verbinden
device-check-code = Prüfen Sie, dass das Gerät diesen Code anzeigt:
device-connected-title = Gerät verbunden
device-connected = { $client } ist jetzt verbunden. Sie können zum Gerät zurückkehren.
device-denied-title = Anfrage abgelehnt
device-denied = Das Gerät hat keinen Zugriff erhalten. Sie können diese Seite schließen.
device-session-ended = Ihre Sitzung ist beendet. Öffnen Sie die Geräteseite erneut und melden Sie sich an.

## Account
account-title = Ihr { $app }-Konto
account-back = Zurück zu Ihrem Konto
account-profile = Profil
account-save = Speichern
account-change-password = Passwort ändern
account-password-hint = Mindestens { $min } Zeichen. Ihre anderen Sitzungen werden abgemeldet.
account-sessions = Wo Sie angemeldet sind
account-this-browser = dieser Browser
account-since = seit { $when }
account-unknown-device = Unbekanntes Gerät
account-identities = Verknüpfte Anmeldeanbieter
account-unlink = Trennen
account-factors = Zweite Faktoren
account-added = hinzugefügt { $when }
account-remove = Entfernen
account-recovery-left =
    { $count ->
        [one] Noch 1 Wiederherstellungscode.
       *[other] Noch { $count } Wiederherstellungscodes.
    }
account-no-factor = Noch kein zweiter Faktor.
account-add-totp = Authenticator-App hinzufügen
account-new-codes = Neue Wiederherstellungscodes
account-apps = Apps, denen Sie Zugriff gewährt haben
account-revoke = Widerrufen
account-kind-totp = Authenticator-App
account-kind-webauthn = Passkey oder Sicherheitsschlüssel
account-done-profile = Ihr Profil ist gespeichert.
account-done-password = Ihr Passwort ist geändert. Ihre anderen Sitzungen sind abgemeldet.
account-done-session = Diese Sitzung ist abgemeldet.
account-done-identity = Der Anbieter ist getrennt.
account-done-factor = Der zweite Faktor ist entfernt.
account-done-totp = Ihre Authenticator-App ist eingerichtet.
account-done-passkey = Ihr Passkey ist hinzugefügt.
account-passkey-name = Name des Passkeys
account-passkey-name-hint = Zum Beispiel das Gerät, auf dem er liegt.
account-add-passkey = Passkey hinzufügen
account-done-consent = Der Zugriff der App ist widerrufen.
totp-add-title = Authenticator-App hinzufügen — { $app }
totp-add-heading = Authenticator-App hinzufügen

## Signing out
logout-title = Von { $app } abmelden?
logout-client-asks = { $client } möchte Sie abmelden.
logout-app-asks = Eine App möchte Sie abmelden.
logout-signed-in-as = Sie sind als { $email } angemeldet.
signed-out-title = Sie sind abgemeldet
signed-out = Sie haben sich von { $app } abgemeldet.
logout-bad-title = Dieser Abmeldelink ist ungültig
logout-not-form = Die Abmeldeanfrage muss ein Formular sein (application/x-www-form-urlencoded).
logout-malformed = Die Parameter der Abmeldeanfrage sind fehlerhaft.

## Messages and errors
not-signed-in-title = Sie sind nicht angemeldet
session-ended = Ihre Sitzung ist beendet. Melden Sie sich erneut an.
consent-session-ended = Ihre Sitzung ist beendet. Gehen Sie zurück zur App und melden Sie sich erneut an.
bad-link-title = Dieser Link ist ungültig
bad-return-to = Die Adresse, zu der es nach der Anmeldung zurückgeht, muss eine Seite dieser App sein.
bad-return-address = Die Rücksprungadresse ist ungültig.
incomplete-link-title = Dieser Link ist unvollständig
missing-token = Dem Link fehlt das Token. Öffnen Sie den Link aus Ihrer E-Mail erneut, ohne ihn zu verändern.
authorize-failed-title = Diese Anmeldeanfrage kann nicht abgeschlossen werden
form-expired-title = Dieses Formular ist abgelaufen
form-expired = Das Formular konnte nicht geprüft werden (sein Sicherheitstoken fehlt oder passt nicht). Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
error-gone = Dieser Link ist nicht mehr gültig
error-not-found = Nicht gefunden
error-forbidden = Nicht erlaubt
error-conflict = Bereits erledigt
error-rate-limited = Zu viele Versuche
error-bad-request = Etwas stimmt nicht
error-internal = Etwas ist schiefgegangen
error-try-later = Bitte versuchen Sie es später erneut.

## Field errors of the services (shown next to the field)
problem-required = Dieses Feld ist erforderlich.
problem-email = Das ist keine E-Mail-Adresse.
problem-control = Das darf keine Steuerzeichen enthalten.
problem-incorrect = Das ist nicht korrekt.
problem-password-same = Das stimmt nicht mit dem neuen Passwort überein.
problem-too-long = Das ist zu lang.
problem-min = Verwenden Sie mindestens { $n } Zeichen.
problem-max = Verwenden Sie höchstens { $n } Zeichen.

## Mail
mail-hi = Hallo { $name },
mail-reset-subject = Setzen Sie Ihr { $app }-Passwort zurück
mail-reset-body = Jemand hat gebeten, das Passwort Ihres { $app }-Kontos zurückzusetzen. Öffnen Sie diesen Link, um ein neues Passwort zu wählen:
mail-reset-link = Mein Passwort zurücksetzen
mail-reset-footer = Der Link funktioniert einmal und läuft bald ab. Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.
mail-verify-subject = Bestätigen Sie Ihre E-Mail für { $app }
mail-verify-body = Bitte bestätigen Sie, dass dies Ihre E-Mail-Adresse für { $app } ist:
mail-verify-body-text = Bitte bestätigen Sie, dass dies Ihre E-Mail-Adresse für { $app } ist, indem Sie diesen Link öffnen:
mail-verify-footer = Wenn Sie kein Konto erstellt haben, ignorieren Sie diese E-Mail.
mail-invite-subject = Sie wurden zu { $app } eingeladen
mail-invite-body = Sie wurden eingeladen, { $app } beizutreten.
mail-invite-body-text = Sie wurden eingeladen, { $app } beizutreten. Öffnen Sie diesen Link, um anzunehmen:
mail-invite-link = Einladung annehmen
mail-exists-subject = Jemand wollte sich mit Ihrer Adresse bei { $app } registrieren
mail-exists-body = Jemand (vielleicht Sie) wollte mit dieser Adresse ein { $app }-Konto erstellen, aber Sie haben bereits eines. Öffnen Sie diesen Link, um sich anzumelden:
mail-exists-footer = Wenn Sie Ihr Passwort vergessen haben, wählen Sie dort „Passwort vergessen?“. Wenn Sie das nicht waren, ignorieren Sie diese E-Mail: Es hat sich nichts geändert.
