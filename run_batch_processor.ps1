<#
.SYNOPSIS
    Run utils/batch_processor.py: completions for a file of prompts, in parallel, resumable.

.DESCRIPTION
    Every parameter maps one-to-one onto a flag of utils/batch_processor.py (see $FlagFor
    below); only the parameters you pass are forwarded, so the Python defaults apply to the
    rest. Other flags of the Python script go after "--" and are passed through unchanged,
    e.g.  .\run_batch_processor.ps1 -InputFile prompts\sample_batch.json -- --seed 3 --top-p 0.9

.EXAMPLE
    .\run_batch_processor.ps1 -InputFile prompts\sample_batch.json -MaxWorkers 16 -Provider deepseek
.EXAMPLE
    .\run_batch_processor.ps1 -InputFile prompts\sample_batch.json -Backend local -MaxTokens 64
.EXAMPLE
    .\run_batch_processor.ps1 -Resume latest
#>
[CmdletBinding()]
param(
    [string]$InputFile,
    [int]$MaxWorkers,
    [double]$Temperature,
    [int]$MaxTokens,
    [ValidateSet("local", "openai")][string]$Backend,
    [string]$Model,
    [string]$OutputDir,
    [string]$BaseUrl,
    [ValidateSet("openai", "deepseek")][string]$Provider,
    [double]$Rpm,
    [double]$Tpm,
    [double]$Timeout,
    [int]$Retries,
    [string]$Resume,
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$ExtraArgs
)
$ErrorActionPreference = "Stop"

# PowerShell parameter -> Python flag (tests/test_ps1_wrappers.py checks both sides).
$FlagFor = [ordered]@{
    InputFile   = "--input"
    MaxWorkers  = "--max-workers"
    Temperature = "--temperature"
    MaxTokens   = "--max-tokens"
    Backend     = "--backend"
    Model       = "--model"
    OutputDir   = "--output-dir"
    BaseUrl     = "--base-url"
    Provider    = "--provider"
    Rpm         = "--rpm"
    Tpm         = "--tpm"
    Timeout     = "--timeout"
    Retries     = "--retries"
    Resume      = "--resume"
}

$Root = $PSScriptRoot
$Python = @(
    (Join-Path $Root ".venv\Scripts\python.exe"),
    (Join-Path $Root ".venv/bin/python")
) | Where-Object { Test-Path $_ } | Select-Object -First 1
if (-not $Python) { $Python = "python" }

if (-not $InputFile -and -not $Resume) {
    [Console]::Error.WriteLine("run_batch_processor.ps1: give -InputFile FILE (e.g. prompts\sample_batch.json), or -Resume latest to finish a run.")
    exit 2
}

$PyArgs = @((Join-Path $Root "utils/batch_processor.py"))
foreach ($name in $FlagFor.Keys) {
    if ($PSBoundParameters.ContainsKey($name)) {
        # Invariant culture: 0.7 must not become "0,7" on a German or French Windows.
        $value = [string]::Format([Globalization.CultureInfo]::InvariantCulture, "{0}", $PSBoundParameters[$name])
        $PyArgs += @($FlagFor[$name], $value)
    }
}
if ($ExtraArgs) { $PyArgs += $ExtraArgs }

& $Python @PyArgs
exit $LASTEXITCODE
