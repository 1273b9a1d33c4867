<#
.SYNOPSIS
    Check the DeepSeek API key, then run the RLHF loop on the DeepSeek backend
    (and, with -Dashboard, the dashboard beside it).

.DESCRIPTION
    1. python utils/setup_deepseek.py: takes DEEPSEEK_API_KEY from the environment or .env,
       or asks for it (hidden input), saves it to .env (owner-only), and checks it with one
       cheap call. Stops here unless the check says "ok" ("no network" / "bad key" otherwise).
    2. With -Dashboard: starts python run_dashboard.py in the background.
    3. python interface/rlhf_loop.py --backend openai --provider deepseek plus the mapped
       parameters below; other loop flags go after "--" and are passed on unchanged,
       e.g.  .\run_with_deepseek.ps1 -Cycles 2 -- --confidence-threshold 0.9

.EXAMPLE
    .\run_with_deepseek.ps1 -NumPrompts 20 -Cycles 2
.EXAMPLE
    .\run_with_deepseek.ps1 -Dashboard -Annotator interactive
.EXAMPLE
    .\run_with_deepseek.ps1 -CheckOnly
#>
[CmdletBinding()]
param(
    [switch]$CheckOnly,
    [switch]$Dashboard,
    [string]$BaseUrl,
    [string]$Model,
    [int]$NumPrompts,
    [int]$Cycles,
    [ValidateSet("interactive", "replay", "llm")][string]$Annotator,
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$LoopArgs
)
$ErrorActionPreference = "Stop"

# PowerShell parameter -> Python flag (tests/test_ps1_wrappers.py checks both sides).
$SetupFlagFor = [ordered]@{
    CheckOnly = "--check-only"
    BaseUrl   = "--base-url"
}
$LoopFlagFor = [ordered]@{
    BaseUrl    = "--base-url"
    Model      = "--model"
    NumPrompts = "--num-prompts"
    Cycles     = "--cycles"
    Annotator  = "--annotator"
}
$LoopFixedArgs = @("--backend", "openai", "--provider", "deepseek")
$DashboardScript = "run_dashboard.py"

$Root = $PSScriptRoot
$Python = @(
    (Join-Path $Root ".venv\Scripts\python.exe"),
    (Join-Path $Root ".venv/bin/python")
) | Where-Object { Test-Path $_ } | Select-Object -First 1
if (-not $Python) { $Python = "python" }

# $PSBoundParameters inside the function is the function's own; use the script's.
$ScriptParams = $PSBoundParameters
function ConvertTo-PyArgs([System.Collections.IDictionary]$FlagFor) {
    $out = @()
    foreach ($name in $FlagFor.Keys) {
        if (-not $ScriptParams.ContainsKey($name)) { continue }
        $value = $ScriptParams[$name]
        if ($value -is [System.Management.Automation.SwitchParameter]) {
            if ($value.IsPresent) { $out += $FlagFor[$name] }
        } else {
            $out += @($FlagFor[$name], [string]::Format([Globalization.CultureInfo]::InvariantCulture, "{0}", $value))
        }
    }
    return ,$out
}

# 1. the key: one line, "ok" / "bad key" / "no network"
$SetupArgs = ConvertTo-PyArgs $SetupFlagFor
& $Python (Join-Path $Root "utils/setup_deepseek.py") @SetupArgs
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
if ($CheckOnly) { exit 0 }

# 2. the dashboard, in the background
if ($Dashboard) {
    $dash = Start-Process -FilePath $Python -ArgumentList "`"$(Join-Path $Root $DashboardScript)`"" -PassThru -NoNewWindow
    Write-Host "Dashboard starting (process $($dash.Id)); stop it with: Stop-Process -Id $($dash.Id)"
}

# 3. the loop on DeepSeek
$PyArgs = @((Join-Path $Root "interface/rlhf_loop.py")) + $LoopFixedArgs + (ConvertTo-PyArgs $LoopFlagFor)
if ($LoopArgs) { $PyArgs += $LoopArgs }
& $Python @PyArgs
exit $LASTEXITCODE
