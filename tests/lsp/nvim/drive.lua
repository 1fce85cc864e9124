-- Drives Neovim 0.7.2 (headless) as a real LSP client of `python -m lsp_server`:
-- open $TV_FILE, wait for diagnostics, hover on the first one, write what the editor
-- received as JSON to $TV_OUT, quit. A timer quits after $TV_TIMEOUT_MS whatever happens.
local out_path = os.getenv("TV_OUT")
local file = os.getenv("TV_FILE")
local result = { diagnostics = {}, editor_diagnostics = {}, hover = vim.NIL, error = vim.NIL }
local finished = false

local function finish(error)
  if finished then
    return
  end
  finished = true
  if error then
    result.error = error
  end
  local handle = io.open(out_path, "w")
  handle:write(vim.fn.json_encode(result))
  handle:close()
  vim.cmd("qall!")
end

vim.defer_fn(function()
  finish("timed out")
end, tonumber(os.getenv("TV_TIMEOUT_MS") or "20000"))

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local client_id

local function hover(diagnostic)
  local client = vim.lsp.get_client_by_id(client_id)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = diagnostic.range.start.line, character = diagnostic.range.start.character + 2 },
  }
  client.request("textDocument/hover", params, function(err, response)
    if err then
      finish("hover failed: " .. vim.inspect(err))
      return
    end
    result.hover = response or vim.NIL
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      table.insert(result.editor_diagnostics, {
        lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
        severity = d.severity, message = d.message, source = d.source,
      })
    end
    finish(nil)
  end, buf)
end

client_id = vim.lsp.start_client({
  name = "tensorviews",
  cmd = { os.getenv("TV_PYTHON"), "-m", "lsp_server" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, params, ctx, config)
      vim.lsp.diagnostic.on_publish_diagnostics(err, params, ctx, config)
      if #params.diagnostics > 0 and #result.diagnostics == 0 then
        result.diagnostics = params.diagnostics
        -- Let Neovim store them first, then ask for the hover.
        vim.schedule(function()
          hover(params.diagnostics[1])
        end)
      end
    end,
  },
  on_exit = function(code)
    if not finished then
      finish("server exited with " .. tostring(code))
    end
  end,
})
if not client_id then
  finish("could not start the server")
else
  vim.lsp.buf_attach_client(buf, client_id)
end
