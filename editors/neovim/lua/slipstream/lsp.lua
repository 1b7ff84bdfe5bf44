-- Neovim's own LSP client, across the versions this plugin supports (0.7 to 0.11): starting or
-- reusing the Slipstream client for a buffer, request/notify/cancel, whose calling convention
-- changed in 0.11 (client.request(...) became client:request(...)), and the document version the
-- client sent. Nothing else lives here.
local M = {}

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

local client_id_07 = nil -- 0.7 has no vim.lsp.start: the one client started with start_client

--- Starts the client (or reuses the running one) and attaches `bufnr` to it. Returns the client id.
--- `make_config` returns a fresh vim.lsp client config table.
function M.attach(bufnr, make_config)
  if has('0.8') then
    -- reuses the client with the same name and root_dir
    return vim.lsp.start(make_config(), { bufnr = bufnr })
  end
  if client_id_07 == nil or vim.lsp.get_client_by_id(client_id_07) == nil then
    client_id_07 = vim.lsp.start_client(make_config())
  end
  if client_id_07 ~= nil then
    vim.lsp.buf_attach_client(bufnr, client_id_07)
  end
  return client_id_07
end

--- Sends a request; returns the request id, or nil when the client is shutting down.
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if has('0.11') then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  return ok and id or nil
end

--- Sends a request and waits for it (at most timeout_ms): { err, result }, or nil and a reason.
function M.request_sync(client, method, params, timeout_ms)
  if has('0.11') then
    return client:request_sync(method, params, timeout_ms)
  end
  return client.request_sync(method, params, timeout_ms)
end

function M.notify(client, method, params)
  if has('0.11') then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Sends $/cancelRequest for `id`.
function M.cancel(client, id)
  if has('0.11') then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

--- The document version of `bufnr` the client last sent, or is about to send with its next
--- message (its changes go out after a debounce, before any request).
function M.version(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

function M.stop(client)
  if has('0.11') then
    return client:stop()
  end
  return client.stop()
end

return M
