# Heimdall's hosted pages and mail, in French (Français). Keys as in en.ftl.

language-name = Français
language-picker = Langue :
language-unknown = Cette langue n’est pas disponible.

## Shared
field-email = E-mail
field-password = Mot de passe
field-your-name = Votre nom
field-display-name = Nom affiché
field-choose-password = Choisissez un mot de passe
field-repeat-password = Répétez le mot de passe
field-current-password = Mot de passe actuel
field-new-password = Nouveau mot de passe
field-repeat-new-password = Répétez le nouveau mot de passe
field-totp-code = Code de votre application d’authentification
field-recovery-code = Code de récupération
field-device-code = Le code affiché par l’appareil
continue = Continuer
sign-out = Se déconnecter
back-to-sign-in = Retour à la connexion
sign-in-again = Se reconnecter
password-hint = Au moins { $min } caractères.
correct-marked-field = Veuillez corriger le champ signalé.
passwords-differ = Les deux mots de passe ne sont pas identiques.

## Sign-in
login-title = Se connecter à { $app }
login-forgot = Mot de passe oublié ?
login-submit = Se connecter
login-passkey = Se connecter avec une clé d’accès
login-or = ou
login-continue-with = Continuer avec { $provider }
login-new-here = Nouveau sur { $app } ?
login-create-account = Créer un compte
login-wrong-credentials = L’e-mail ou le mot de passe est incorrect.
login-provider-failed = La connexion avec le fournisseur n’a pas abouti : { $reason }
signed-in-title = Vous êtes connecté
signed-in-message = Vous êtes connecté à { $app } en tant que { $email }. Vous pouvez fermer cette page.

## Second factor
mfa-title = Deuxième étape — { $app }
mfa-heading = Confirmez que c’est bien vous
mfa-intro = Votre compte { $app } est protégé par un deuxième facteur.
mfa-webauthn = Utiliser une clé d’accès ou une clé de sécurité
mfa-use-recovery = Utiliser un code de récupération
mfa-wrong-code = Cela n’a pas fonctionné. Vérifiez le code et réessayez.
mfa-choose-method = Choisissez comment confirmer que c’est bien vous.
mfa-expired-title = Reconnectez-vous
mfa-expired = Cette connexion a expiré ou a connu trop d’essais erronés. Revenez en arrière et reconnectez-vous.
totp-wrong-code = Ce code n’a pas fonctionné. Saisissez le code actuel de votre application d’authentification.
totp-qr-alt = Code QR à scanner avec votre application d’authentification
totp-key = Ou saisissez cette clé :
totp-turn-on = Activer
enrol-title = Configurer un deuxième facteur — { $app }
enrol-heading = Configurer un deuxième facteur
enrol-intro = { $app } demande un deuxième facteur pour chaque compte. Ajoutez ce compte à une application d’authentification, puis saisissez le code qu’elle affiche.
enrol-start-again = Recommencer
enrol-incomplete = Le formulaire est incomplet. Revenez en arrière et reconnectez-vous.
recovery-title = Vos codes de récupération — { $app }
recovery-heading = Enregistrez vos codes de récupération
recovery-intro = Si vous perdez votre application d’authentification, chacun de ces codes vous connecte une fois. Ils ne sont affichés que maintenant : notez-les ou enregistrez-les dans votre gestionnaire de mots de passe.
passkey-no-answer = La clé d’accès n’a pas répondu. Revenez en arrière et réessayez.

## Sign-up
signup-title = Créez votre compte { $app }
signup-name-hint = Facultatif : comment nous vous saluons.
signup-submit = Créer mon compte
signup-have-account = Vous avez déjà un compte ?
signup-sign-in = Se connecter
signup-exists = Un compte existe déjà avec cet e-mail. Connectez-vous ou réinitialisez son mot de passe.
signup-closed-title = Les inscriptions sont fermées
signup-closed = { $app } n’accepte pas de nouveaux comptes ici. Demandez une invitation.
check-mail-title = Consultez vos e-mails
signup-check-mail = Nous avons envoyé un message à { $email }. Ouvrez le lien qu’il contient pour terminer la création de votre compte { $app }.

## Forgot and reset password
forgot-title = Mot de passe oublié ?
forgot-intro = Saisissez l’e-mail de votre compte { $app }. S’il existe, nous lui envoyons un lien pour choisir un nouveau mot de passe.
forgot-submit = M’envoyer un lien
forgot-check-mail = Si { $email } a un compte { $app }, nous lui avons envoyé un lien pour choisir un nouveau mot de passe. Le lien expire bientôt.
reset-title = Choisissez un nouveau mot de passe
reset-for-account = pour votre compte { $app }
reset-submit = Enregistrer le nouveau mot de passe
reset-done-title = Votre mot de passe a été modifié
reset-done = Vous pouvez maintenant vous connecter à { $app } avec votre nouveau mot de passe. Par sécurité, vous avez été déconnecté partout.

## Email verification
verify-title = Vérifiez votre e-mail
verify-intro = Confirmez cette adresse pour votre compte { $app }.
verify-submit = Vérifier mon e-mail
verify-done-title = Votre e-mail est vérifié
verify-done = Merci : { $email } est vérifié pour { $app }.

## Invitations
invite-title = Accepter l’invitation
invite-heading = Rejoindre { $app }
invite-intro = Vous avez été invité. Créez votre compte pour accepter.
invite-submit = Créer mon compte
invite-done-title = Bienvenue à bord
invite-done = Votre compte { $app } ({ $email }) est prêt. Vous pouvez maintenant vous connecter avec votre nouveau mot de passe.

## Consent and devices
consent-title = Autoriser { $client } ?
consent-heading = { $client } souhaite accéder à votre compte { $app }
consent-able-to = Cette application pourra :
consent-allow = Autoriser
consent-deny = Refuser
consent-website = Site web
consent-privacy = Politique de confidentialité
consent-terms = Conditions d’utilisation
consent-choose = Choisissez Autoriser ou Refuser.
consent-incomplete = La page de consentement a besoin de la demande d’autorisation qu’elle concerne.
device-title = Connecter un appareil
device-heading = Connecter un appareil à votre compte { $app }
device-check-code = Vérifiez que l’appareil affiche ce code :
device-connected-title = Appareil connecté
device-connected = { $client } est maintenant connecté. Vous pouvez retourner à l’appareil.
device-denied-title = Demande refusée
device-denied = L’appareil n’a pas reçu l’accès. Vous pouvez fermer cette page.
device-session-ended = Votre session a pris fin. Rouvrez la page de l’appareil et connectez-vous.

## Account
account-title = Votre compte { $app }
account-back = Retour à votre compte
account-profile = Profil
account-save = Enregistrer
account-change-password = Changer le mot de passe
account-password-hint = Au moins { $min } caractères. Vos autres sessions sont déconnectées.
account-sessions = Où vous êtes connecté
account-this-browser = ce navigateur
account-since = depuis { $when }
account-unknown-device = Appareil inconnu
account-identities = Fournisseurs de connexion liés
account-unlink = Dissocier
account-factors = Deuxièmes facteurs
account-added = ajouté le { $when }
account-remove = Supprimer
account-recovery-left =
    { $count ->
        [one] Il reste 1 code de récupération.
       *[other] Il reste { $count } codes de récupération.
    }
account-no-factor = Pas encore de deuxième facteur.
account-add-totp = Ajouter une application d’authentification
account-new-codes = Nouveaux codes de récupération
account-apps = Applications que vous avez autorisées
account-revoke = Révoquer
account-kind-totp = Application d’authentification
account-kind-webauthn = Clé d’accès ou clé de sécurité
account-done-profile = Votre profil est enregistré.
account-done-password = Votre mot de passe est changé. Vos autres sessions sont déconnectées.
account-done-session = Cette session est déconnectée.
account-done-identity = Le fournisseur est dissocié.
account-done-factor = Le deuxième facteur est supprimé.
account-done-totp = Votre application d’authentification est configurée.
account-done-passkey = Votre clé d’accès est ajoutée.
account-passkey-name = Nom de la clé d’accès
account-passkey-name-hint = Par exemple l’appareil sur lequel elle se trouve.
account-add-passkey = Ajouter une clé d’accès
account-done-consent = L’accès de l’application est révoqué.
totp-add-title = Ajouter une application d’authentification — { $app }
totp-add-heading = Ajouter une application d’authentification

## Signing out
logout-title = Se déconnecter de { $app } ?
logout-client-asks = { $client } demande à vous déconnecter.
logout-app-asks = Une application demande à vous déconnecter.
logout-signed-in-as = Vous êtes connecté en tant que { $email }.
signed-out-title = Vous êtes déconnecté
signed-out = Vous vous êtes déconnecté de { $app }.
logout-bad-title = Ce lien de déconnexion n’est pas valide
logout-not-form = La demande de déconnexion doit être un formulaire (application/x-www-form-urlencoded).
logout-malformed = Les paramètres de la demande de déconnexion sont mal formés.

## Messages and errors
not-signed-in-title = Vous n’êtes pas connecté
session-ended = Votre session a pris fin. Reconnectez-vous.
consent-session-ended = Votre session a pris fin. Revenez à l’application et reconnectez-vous.
bad-link-title = Ce lien n’est pas valide
bad-return-to = L’adresse de retour après la connexion doit être une page de cette application.
bad-return-address = L’adresse de retour n’est pas valide.
incomplete-link-title = Ce lien est incomplet
missing-token = Le lien n’a pas de jeton. Rouvrez le lien de votre e-mail sans le modifier.
authorize-failed-title = Cette demande de connexion ne peut pas aboutir
form-expired-title = Ce formulaire a expiré
form-expired = Le formulaire n’a pas pu être vérifié (son jeton de sécurité manque ou ne correspond pas). Revenez en arrière, rechargez la page et réessayez.
error-gone = Ce lien n’est plus valide
error-not-found = Introuvable
error-forbidden = Non autorisé
error-conflict = Déjà fait
error-rate-limited = Trop de tentatives
error-bad-request = Quelque chose ne va pas
error-internal = Une erreur s’est produite
error-try-later = Veuillez réessayer plus tard.

## Field errors of the services (shown next to the field)
problem-required = Ce champ est obligatoire.
problem-email = Ce n’est pas une adresse e-mail.
problem-control = Ceci ne doit pas contenir de caractères de contrôle.
problem-incorrect = Ce n’est pas correct.
problem-password-same = Ce n’est pas identique au nouveau mot de passe.
problem-too-long = C’est trop long.
problem-min = Utilisez au moins { $n } caractères.
problem-max = Utilisez au plus { $n } caractères.

## Mail
mail-hi = Bonjour { $name },
mail-reset-subject = Réinitialisez votre mot de passe { $app }
mail-reset-body = Quelqu’un a demandé la réinitialisation du mot de passe de votre compte { $app }. Pour choisir un nouveau mot de passe, ouvrez ce lien :
mail-reset-link = Réinitialiser mon mot de passe
mail-reset-footer = Le lien ne fonctionne qu’une fois et expire bientôt. Si vous n’avez rien demandé, ignorez cet e-mail : votre mot de passe reste inchangé.
mail-verify-subject = Vérifiez votre e-mail pour { $app }
mail-verify-body = Veuillez confirmer qu’il s’agit bien de votre adresse e-mail pour { $app } :
mail-verify-body-text = Veuillez confirmer qu’il s’agit bien de votre adresse e-mail pour { $app } en ouvrant ce lien :
mail-verify-footer = Si vous n’avez pas créé de compte, ignorez cet e-mail.
mail-invite-subject = Vous avez été invité à { $app }
mail-invite-body = Vous avez été invité à rejoindre { $app }.
mail-invite-body-text = Vous avez été invité à rejoindre { $app }. Pour accepter, ouvrez ce lien :
mail-invite-link = Accepter l’invitation
mail-exists-subject = Quelqu’un a tenté de s’inscrire à { $app } avec votre adresse
mail-exists-body = Quelqu’un (peut-être vous) a tenté de créer un compte { $app } avec cette adresse, mais vous en avez déjà un. Pour vous connecter, ouvrez ce lien :
mail-exists-footer = Si vous avez oublié votre mot de passe, choisissez « Mot de passe oublié ? » sur cette page. Si ce n’était pas vous, ignorez cet e-mail : rien n’a changé.
