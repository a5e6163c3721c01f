-- wrk script: POST with a token from a pool, a different one each request.
-- TOKENS_FILE: one token per line. POOL_MODE: "bearer" (Authorization: Bearer,
-- body $BODY) or "form" (body "$BODY&token=<token>", form-encoded).
local tokens = {}
local i = 0
local mode = os.getenv("POOL_MODE") or "bearer"
local body = os.getenv("BODY") or ""
local content_type = os.getenv("CONTENT_TYPE") or "application/json"

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  local headers = { ["Content-Type"] = content_type }
  if mode == "form" then
    return wrk.format("POST", nil, headers, body .. "&token=" .. tokens[i])
  end
  headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format("POST", nil, headers, body)
end
