//! The API's `detail`, `title` and `message` texts in Portuguese (Brazil) and Spanish, chosen by
//! `Accept-Language`. Errors are written in English where they arise; an error response for a
//! client that prefers Portuguese or Spanish is translated here, on its way out, so the English
//! bodies stay byte for byte what the contract shows.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::i18n::Lang;

/// Fixed texts: English, Portuguese (Brazil), Spanish.
const TEXTS: &[(&str, &str, &str)] = &[
    (
        "No active account found with the given credentials",
        "Nenhuma conta ativa encontrada com as credenciais fornecidas",
        "No se encontró una cuenta activa con las credenciales proporcionadas",
    ),
    (
        "Token is invalid or expired",
        "O token é inválido ou expirou",
        "El token no es válido o ha expirado",
    ),
    (
        "Given token not valid for any token type",
        "O token informado não é válido para nenhum tipo de token",
        "El token dado no es válido para ningún tipo de token",
    ),
    (
        "Authentication credentials were not provided.",
        "As credenciais de autenticação não foram fornecidas.",
        "No se proporcionaron las credenciales de autenticación.",
    ),
    (
        "Authorization header must contain two space-delimited values",
        "O cabeçalho Authorization deve conter dois valores separados por espaço",
        "El encabezado Authorization debe contener dos valores separados por un espacio",
    ),
    (
        "This field is required.",
        "Este campo é obrigatório.",
        "Este campo es obligatorio.",
    ),
    (
        "This field may not be blank.",
        "Este campo não pode estar em branco.",
        "Este campo no puede estar en blanco.",
    ),
    (
        "This field may not be null.",
        "Este campo não pode ser nulo.",
        "Este campo no puede ser nulo.",
    ),
    (
        "Not a valid string.",
        "Não é um texto válido.",
        "No es un texto válido.",
    ),
    (
        "Rate limit exceeded",
        "Limite de tentativas excedido",
        "Límite de intentos excedido",
    ),
    ("Not found.", "Não encontrado.", "No encontrado."),
    (
        "Service temporarily unavailable, try again later.",
        "Serviço temporariamente indisponível, tente novamente mais tarde.",
        "Servicio temporalmente no disponible, inténtelo de nuevo más tarde.",
    ),
    (
        "A server error occurred.",
        "Ocorreu um erro no servidor.",
        "Se produjo un error en el servidor.",
    ),
    (
        "You do not have permission to perform this action.",
        "Você não tem permissão para executar esta ação.",
        "No tiene permiso para realizar esta acción.",
    ),
    (
        "The request body could not be read.",
        "O corpo da requisição não pôde ser lido.",
        "No se pudo leer el cuerpo de la solicitud.",
    ),
    (
        "The request is invalid.",
        "A requisição é inválida.",
        "La solicitud no es válida.",
    ),
    (
        "Invalid consumer key or secret key.",
        "Consumer key ou secret key inválida.",
        "Consumer key o secret key no válida.",
    ),
    (
        "Invalid or expired refresh token.",
        "Refresh token inválido ou expirado.",
        "Refresh token no válido o expirado.",
    ),
    (
        "Must be a valid UUID.",
        "Deve ser um UUID válido.",
        "Debe ser un UUID válido.",
    ),
    (
        "Must be a string.",
        "Deve ser um texto.",
        "Debe ser un texto.",
    ),
    (
        "The request body must be a JSON object.",
        "O corpo da requisição deve ser um objeto JSON.",
        "El cuerpo de la solicitud debe ser un objeto JSON.",
    ),
    ("Bad Request", "Requisição inválida", "Solicitud incorrecta"),
    ("Unauthorized", "Não autorizado", "No autorizado"),
    ("Forbidden", "Proibido", "Prohibido"),
    ("Not Found", "Não encontrado", "No encontrado"),
    (
        "Method Not Allowed",
        "Método não permitido",
        "Método no permitido",
    ),
    (
        "Payload Too Large",
        "Conteúdo grande demais",
        "Contenido demasiado grande",
    ),
    (
        "Unsupported Media Type",
        "Tipo de mídia não suportado",
        "Tipo de medio no soportado",
    ),
    (
        "Too Many Requests",
        "Requisições demais",
        "Demasiadas solicitudes",
    ),
    (
        "Internal Server Error",
        "Erro interno do servidor",
        "Error interno del servidor",
    ),
    (
        "Service Unavailable",
        "Serviço indisponível",
        "Servicio no disponible",
    ),
];

/// Texts with a variable part: English prefix and suffix, and the same in each language.
/// A text's parts before and after its variable part.
type Around = (&'static str, &'static str);

const PATTERNS: &[(Around, Around, Around)] = &[
    (
        ("Method \"", "\" not allowed."),
        ("Método \"", "\" não permitido."),
        ("Método \"", "\" no permitido."),
    ),
    (
        ("Unsupported media type \"", "\" in request."),
        ("Tipo de mídia \"", "\" não suportado na requisição."),
        ("Tipo de medio \"", "\" no soportado en la solicitud."),
    ),
    (
        ("JSON parse error - ", ""),
        ("Erro ao interpretar o JSON - ", ""),
        ("Error al analizar el JSON - ", ""),
    ),
    (
        ("Request body is larger than ", " bytes."),
        ("O corpo da requisição tem mais de ", " bytes."),
        ("El cuerpo de la solicitud tiene más de ", " bytes."),
    ),
    (
        ("Invalid data. Expected a dictionary, but got ", "."),
        (
            "Dados inválidos. Esperava-se um dicionário, mas foi recebido ",
            ".",
        ),
        (
            "Datos no válidos. Se esperaba un diccionario, pero se recibió ",
            ".",
        ),
    ),
];

/// `text` in `lang`, or `text` itself when it is not one of the API's texts.
pub fn translate(lang: Lang, text: &str) -> String {
    let pick = |t: (&'static str, &'static str, &'static str)| match lang {
        Lang::En => t.0,
        Lang::PtBr => t.1,
        Lang::Es => t.2,
    };
    if let Some(t) = TEXTS.iter().find(|t| t.0 == text) {
        return pick(*t).to_owned();
    }
    for (en, pt, es) in PATTERNS {
        if let Some(middle) = text
            .strip_prefix(en.0)
            .and_then(|rest| rest.strip_suffix(en.1))
        {
            let (before, after) = match lang {
                Lang::En => *en,
                Lang::PtBr => *pt,
                Lang::Es => *es,
            };
            return format!("{before}{middle}{after}");
        }
    }
    text.to_owned()
}

/// Translates every human text of an error body in place: `detail`, `title`, `message`, and the
/// messages of validation lists (simplejwt's `{"field": ["…"]}` and the integration dialect's
/// `validation`). Codes such as `token_not_valid` or OAuth's `error` are left alone.
fn translate_body(lang: Lang, body: &mut Value) {
    let Value::Object(map) = body else { return };
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            ("detail" | "title" | "message", Value::String(s)) => *s = translate(lang, s),
            (_, Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(s) => *s = translate(lang, s),
                        Value::Object(_) => translate_body(lang, item),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Middleware: error responses in the client's language when it prefers Portuguese or Spanish.
pub async fn translate_errors(request: Request, next: Next) -> Response {
    let lang = Lang::preferred(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if lang == Lang::En || response.status().as_u16() < 400 || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are small; anything larger is passed on untouched.
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    translate_body(lang, &mut value);
    let translated = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    Response::from_parts(parts, Body::from(translated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixed_and_patterned_texts_are_translated_and_others_kept() {
        assert_eq!(
            translate(Lang::Es, "This field is required."),
            "Este campo es obligatorio."
        );
        assert_eq!(
            translate(Lang::PtBr, "Method \"GET\" not allowed."),
            "Método \"GET\" não permitido."
        );
        assert_eq!(translate(Lang::PtBr, "something else"), "something else");
    }

    #[test]
    fn error_bodies_keep_their_shape_and_codes() {
        let mut body = json!({"detail": "Token is invalid or expired", "code": "token_not_valid"});
        translate_body(Lang::PtBr, &mut body);
        assert_eq!(
            body,
            json!({"detail": "O token é inválido ou expirou", "code": "token_not_valid"})
        );
        let mut body = json!({"status": 400, "title": "Bad Request", "detail": "The request is invalid.",
            "validation": [{"field": "secret_key", "message": "This field is required."}]});
        translate_body(Lang::Es, &mut body);
        assert_eq!(body["title"], "Solicitud incorrecta");
        assert_eq!(body["validation"][0]["field"], "secret_key");
        assert_eq!(
            body["validation"][0]["message"],
            "Este campo es obligatorio."
        );
    }
}
