-- The text of :SlipstreamStatus: whether suggestions are on in the current buffer (and why not),
-- and the server's `slipstream/status` in one line (state, model, latency, shown and accepted
-- counts, and how much of the accepted text is still there at each retention checkpoint).
-- Pure formatting of the tables it is given, no Neovim calls, so that it can be checked on
-- made-up input.
local M = {}

local OFF = {
  global = 'disabled globally (:SlipstreamEnable)',
  buffer = 'disabled in this buffer (b:slipstream_enabled, :SlipstreamEnable!)',
}

--- `here`: { on, off ('global'|'buffer'|'filetype'), filetype, attached, not_attached (a reason
--- the buffer is not attached, or nil), auto_trigger }. "suggestions on here", or "suggestions
--- off here: ..." with the reason.
function M.here(here)
  if not here.on then
    local why = OFF[here.off]
    if here.off == 'filetype' then
      local ft = here.filetype ~= '' and here.filetype or '(none)'
      why = 'off for filetype ' .. ft .. ' (filetypes)'
    end
    return 'suggestions off here: ' .. (why or tostring(here.off))
  end
  if here.not_attached then
    return 'suggestions off here: not attached, ' .. here.not_attached
  end
  if not here.attached then
    return 'suggestions off here: not attached yet'
  end
  if here.auto_trigger == false then
    return 'suggestions on here, on request only (auto_trigger = false)'
  end
  return 'suggestions on here'
end

local function duration(seconds)
  if seconds < 60 then
    return string.format('%d s', seconds)
  end
  return string.format('%d min', math.floor(seconds / 60))
end

--- "still there: 92% after 30 s, 75% after 5 min" from `slipstream/status` events.retention (the
--- checkpoints with accepted characters), or nil when there is none.
function M.retention(retention)
  local parts = {}
  local checkpoints = type(retention) == 'table' and retention.checkpoints or nil
  for _, c in ipairs(type(checkpoints) == 'table' and checkpoints or {}) do
    local accepted = tonumber(c.acceptedChars)
    if accepted and accepted > 0 and tonumber(c.retainedChars) and tonumber(c.afterSeconds) then
      parts[#parts + 1] = string.format('%.0f%% after %s', 100 * c.retainedChars / accepted, duration(c.afterSeconds))
    end
  end
  if #parts == 0 then
    return nil
  end
  return 'still there: ' .. table.concat(parts, ', ')
end

--- The server's `slipstream/status` result in one line.
function M.server(status)
  local e = status.engine
  local model = type(e.model) == 'table' and e.model.dir or '(no model)'
  local latency = status.latency.count > 0 and string.format('%.0f ms p50', status.latency.p50Ms) or 'no requests yet'
  local line = string.format('slipstream %s: %s, %s, %s, %d shown, %d accepted', status.version, e.state, model, latency,
    status.events.shown, status.events.accepted)
  local kept = M.retention(status.events.retention)
  if kept then
    line = line .. ', ' .. kept
  end
  return line
end

return M
