# Heimdall's hosted pages and mail, in Spanish (Español). Keys as in en.ftl.

language-name = Español
language-picker = Idioma:
language-unknown = Ese idioma no está disponible.

## Shared
field-email = Correo electrónico
field-password = Contraseña
field-your-name = Tu nombre
field-display-name = Nombre visible
field-choose-password = Elige una contraseña
field-repeat-password = Repite la contraseña
field-current-password = Contraseña actual
field-new-password = Nueva contraseña
field-repeat-new-password = Repite la nueva contraseña
field-totp-code = Código de tu aplicación de autenticación
field-recovery-code = Código de recuperación
field-device-code = El código que muestra el dispositivo
continue = Continuar
sign-out = Cerrar sesión
back-to-sign-in = Volver a iniciar sesión
sign-in-again = Iniciar sesión de nuevo
password-hint = Al menos { $min } caracteres.
correct-marked-field = Corrige el campo marcado.
passwords-differ = Las dos contraseñas no coinciden.

## Sign-in
login-title = Inicia sesión en { $app }
login-forgot = ¿Olvidaste tu contraseña?
login-submit = Iniciar sesión
login-passkey = Iniciar sesión con una clave de acceso
login-or = o
login-continue-with = Continuar con { $provider }
login-new-here = ¿Eres nuevo en { $app }?
login-create-account = Crear una cuenta
login-wrong-credentials = El correo electrónico o la contraseña no son correctos.
login-provider-failed = No se pudo iniciar sesión con el proveedor: { $reason }
signed-in-title = Has iniciado sesión
signed-in-message = Has iniciado sesión en { $app } como { $email }. Puedes cerrar esta página.

## Second factor
mfa-title = Segundo paso — { $app }
mfa-heading = Confirma que eres tú
mfa-intro = Tu cuenta de { $app } está protegida con un segundo factor.
mfa-webauthn = Usar una clave de acceso o de seguridad
mfa-use-recovery = Usar un código de recuperación
mfa-wrong-code = No ha funcionado. Revisa el código e inténtalo de nuevo.
mfa-choose-method = Elige cómo confirmar que eres tú.
mfa-expired-title = Inicia sesión de nuevo
mfa-expired = Este inicio de sesión ha caducado o tuvo demasiados intentos fallidos. Vuelve atrás e inicia sesión de nuevo.
totp-wrong-code = Ese código no ha funcionado. Introduce el código actual de tu aplicación de autenticación.
totp-qr-alt = Código QR para escanear con tu aplicación de autenticación
totp-key = O introduce esta clave:
totp-turn-on = Activar
enrol-title = Configura un segundo factor — { $app }
enrol-heading = Configura un segundo factor
enrol-intro = { $app } pide un segundo factor para cada cuenta. Añade esta cuenta a una aplicación de autenticación y escribe el código que muestre.
enrol-start-again = Empezar de nuevo
enrol-incomplete = El formulario está incompleto. Vuelve atrás e inicia sesión de nuevo.
recovery-title = Tus códigos de recuperación — { $app }
recovery-heading = Guarda tus códigos de recuperación
recovery-intro = Si pierdes tu autenticador, cada uno de estos códigos te permite iniciar sesión una vez. Solo se muestran ahora: anótalos o guárdalos en tu gestor de contraseñas.
passkey-no-answer = La clave de acceso no respondió. Vuelve atrás e inténtalo de nuevo.

## Sign-up
signup-title = Crea tu cuenta de { $app }
signup-name-hint = Opcional: cómo te saludamos.
signup-submit = Crear mi cuenta
signup-have-account = ¿Ya tienes una cuenta?
signup-sign-in = Inicia sesión
signup-exists = Ya existe una cuenta con este correo electrónico. Inicia sesión o restablece su contraseña.
signup-closed-title = El registro está cerrado
signup-closed = { $app } no acepta cuentas nuevas aquí. Pide una invitación.
check-mail-title = Revisa tu correo
signup-check-mail = Hemos enviado un mensaje a { $email }. Abre el enlace que contiene para terminar de crear tu cuenta de { $app }.

## Forgot and reset password
forgot-title = ¿Olvidaste tu contraseña?
forgot-intro = Escribe el correo electrónico de tu cuenta de { $app }. Si existe, le enviamos un enlace para elegir una contraseña nueva.
forgot-submit = Enviarme un enlace
forgot-check-mail = Si { $email } tiene una cuenta de { $app }, le hemos enviado un enlace para elegir una contraseña nueva. El enlace caduca pronto.
reset-title = Elige una contraseña nueva
reset-for-account = para tu cuenta de { $app }
reset-submit = Guardar la contraseña nueva
reset-done-title = Tu contraseña se ha cambiado
reset-done = Ya puedes iniciar sesión en { $app } con tu contraseña nueva. Por tu seguridad, se ha cerrado tu sesión en todas partes.

## Email verification
verify-title = Verifica tu correo electrónico
verify-intro = Confirma esta dirección para tu cuenta de { $app }.
verify-submit = Verificar mi correo electrónico
verify-done-title = Tu correo electrónico está verificado
verify-done = Gracias: { $email } está verificado para { $app }.

## Invitations
invite-title = Aceptar la invitación
invite-heading = Únete a { $app }
invite-intro = Te han invitado. Crea tu cuenta para aceptar.
invite-submit = Crear mi cuenta
invite-done-title = Te damos la bienvenida
invite-done = Tu cuenta de { $app } ({ $email }) está lista. Ya puedes iniciar sesión con tu contraseña nueva.

## Consent and devices
consent-title = ¿Permitir a { $client }?
consent-heading = { $client } quiere acceder a tu cuenta de { $app }
consent-able-to = Podrá:
consent-allow = Permitir
consent-deny = Denegar
consent-website = Sitio web
consent-privacy = Política de privacidad
consent-terms = Condiciones del servicio
consent-choose = Elige Permitir o Denegar.
consent-incomplete = La página de consentimiento necesita la solicitud de autorización de la que trata.
device-title = Conectar un dispositivo
device-heading = Conecta un dispositivo a tu cuenta de { $app }
device-check-code = Comprueba que el dispositivo muestra este código:
device-connected-title = Dispositivo conectado
device-connected = { $client } ya está conectado. Puedes volver al dispositivo.
device-denied-title = Solicitud denegada
device-denied = El dispositivo no ha recibido acceso. Puedes cerrar esta página.
device-session-ended = Tu sesión ha terminado. Vuelve a abrir la página del dispositivo e inicia sesión.

## Account
account-title = Tu cuenta de { $app }
account-back = Volver a tu cuenta
account-profile = Perfil
account-save = Guardar
account-change-password = Cambiar la contraseña
account-password-hint = Al menos { $min } caracteres. Se cerrarán tus otras sesiones.
account-sessions = Dónde has iniciado sesión
account-this-browser = este navegador
account-since = desde { $when }
account-unknown-device = Dispositivo desconocido
account-identities = Proveedores de inicio de sesión vinculados
account-unlink = Desvincular
account-factors = Segundos factores
account-added = añadido el { $when }
account-remove = Quitar
account-recovery-left =
    { $count ->
        [one] Queda 1 código de recuperación.
       *[other] Quedan { $count } códigos de recuperación.
    }
account-no-factor = Aún no hay ningún segundo factor.
account-add-totp = Añadir una aplicación de autenticación
account-new-codes = Nuevos códigos de recuperación
account-apps = Aplicaciones que has permitido
account-revoke = Revocar
account-kind-totp = Aplicación de autenticación
account-kind-webauthn = Clave de acceso o de seguridad
account-done-profile = Tu perfil se ha guardado.
account-done-password = Tu contraseña se ha cambiado. Se han cerrado tus otras sesiones.
account-done-session = Se ha cerrado esa sesión.
account-done-identity = El proveedor se ha desvinculado.
account-done-factor = El segundo factor se ha quitado.
account-done-totp = Tu aplicación de autenticación está configurada.
account-done-passkey = Tu llave de acceso se ha añadido.
account-passkey-name = Nombre de la llave de acceso
account-passkey-name-hint = Por ejemplo, el dispositivo en el que está.
account-add-passkey = Añadir una llave de acceso
account-done-consent = Se ha revocado el acceso de la aplicación.
totp-add-title = Añadir una aplicación de autenticación — { $app }
totp-add-heading = Añadir una aplicación de autenticación

## Signing out
logout-title = ¿Cerrar sesión en { $app }?
logout-client-asks = { $client } pide cerrar tu sesión.
logout-app-asks = Una aplicación pide cerrar tu sesión.
logout-signed-in-as = Has iniciado sesión como { $email }.
signed-out-title = Has cerrado sesión
signed-out = Has cerrado sesión en { $app }.
logout-bad-title = Este enlace de cierre de sesión no es válido
logout-not-form = La solicitud de cierre de sesión debe ser un formulario (application/x-www-form-urlencoded).
logout-malformed = Los parámetros de la solicitud de cierre de sesión están mal formados.

## Messages and errors
not-signed-in-title = No has iniciado sesión
session-ended = Tu sesión ha terminado. Inicia sesión de nuevo.
consent-session-ended = Tu sesión ha terminado. Vuelve a la aplicación e inicia sesión de nuevo.
bad-link-title = Este enlace no es válido
bad-return-to = La dirección a la que volver tras iniciar sesión debe ser una página de esta aplicación.
bad-return-address = La dirección de vuelta no es válida.
incomplete-link-title = Este enlace está incompleto
missing-token = El enlace no tiene token. Vuelve a abrir el enlace de tu correo sin modificarlo.
authorize-failed-title = Esta solicitud de inicio de sesión no se puede completar
form-expired-title = Este formulario ha caducado
form-expired = No se pudo verificar el formulario (falta su token de seguridad o no coincide). Vuelve atrás, recarga la página e inténtalo de nuevo.
error-gone = Este enlace ya no es válido
error-not-found = No encontrado
error-forbidden = No permitido
error-conflict = Ya está hecho
error-rate-limited = Demasiados intentos
error-bad-request = Algo no está bien
error-internal = Algo ha salido mal
error-try-later = Inténtalo de nuevo más tarde.

## Field errors of the services (shown next to the field)
problem-required = Este campo es obligatorio.
problem-email = No es una dirección de correo electrónico.
problem-control = No debe contener caracteres de control.
problem-incorrect = No es correcto.
problem-password-same = No coincide con la contraseña nueva.
problem-too-long = Es demasiado largo.
problem-min = Usa al menos { $n } caracteres.
problem-max = Usa como máximo { $n } caracteres.

## Mail
mail-hi = Hola, { $name }:
mail-reset-subject = Restablece tu contraseña de { $app }
mail-reset-body = Alguien ha pedido restablecer la contraseña de tu cuenta de { $app }. Para elegir una contraseña nueva, abre este enlace:
mail-reset-link = Restablecer mi contraseña
mail-reset-footer = El enlace funciona una vez y caduca pronto. Si no lo has pedido tú, ignora este correo: tu contraseña sigue igual.
mail-verify-subject = Verifica tu correo electrónico para { $app }
mail-verify-body = Confirma que esta es tu dirección de correo electrónico para { $app }:
mail-verify-body-text = Confirma que esta es tu dirección de correo electrónico para { $app } abriendo este enlace:
mail-verify-footer = Si no has creado una cuenta, ignora este correo.
mail-invite-subject = Te han invitado a { $app }
mail-invite-body = Te han invitado a unirte a { $app }.
mail-invite-body-text = Te han invitado a unirte a { $app }. Para aceptar, abre este enlace:
mail-invite-link = Aceptar la invitación
mail-exists-subject = Alguien ha intentado registrarse en { $app } con tu dirección
mail-exists-body = Alguien (quizá tú) ha intentado crear una cuenta de { $app } con esta dirección, pero ya tienes una. Para iniciar sesión, abre este enlace:
mail-exists-footer = Si has olvidado tu contraseña, elige «¿Olvidaste tu contraseña?» allí. Si no has sido tú, ignora este correo: no ha cambiado nada.
