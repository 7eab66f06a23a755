import type { Command } from 'commander';
import { CliError, usageError } from '../errors.js';
import type { Factory } from '../factory.js';
import { setExamples } from '../help.js';

/** `kubectl completion bash|zsh`: a script that asks `k8ts-kubectl __complete` for candidates, as cobra's scripts do. */
export function register(program: Command, f: Factory): Command {
  const cmd = program.command('completion')
    .summary('Output shell completion code for the specified shell (bash, zsh, fish, or powershell)')
    .description(`Output shell completion code for the specified shell (bash, zsh, fish, or powershell). The shell code must be evaluated to provide interactive completion of kubectl commands.  This can be done by sourcing it from the .bash_profile.

 Note for zsh users: [1] zsh completions are only supported in versions of zsh >= 5.2.

 (k8ts-kubectl: the bash and zsh scripts are k8ts' own (not cobra's text) and complete the k8ts-kubectl program through its "__complete" command: command names, flags, resource types from discovery and object names; fish and powershell are not supported.)`)
    .usage('SHELL')
    .argument('[args...]')
    .action(async (args: string[]) => {
      if (args.length === 0) throw usageError('completion', 'Shell not specified.');
      if (args.length > 1) throw usageError('completion', 'Too many arguments. Expected only the shell type.');
      const shell = args[0];
      if (shell === 'bash') f.io.out.write(BASH);
      else if (shell === 'zsh') f.io.out.write(ZSH);
      else if (shell === 'fish' || shell === 'powershell') throw new CliError(`${shell} completion is not supported by k8ts-kubectl (bash and zsh are)`);
      else throw usageError('completion', `Unsupported shell type "${shell}".`);
    });
  setExamples(cmd, `  # Load the k8ts-kubectl completion code for bash into the current shell
  source <(k8ts-kubectl completion bash)

  # Load the k8ts-kubectl completion code for zsh into the current shell
  source <(k8ts-kubectl completion zsh)`, { own: true });
  return cmd;
}

const BASH = `# bash completion for k8ts-kubectl                          -*- shell-script -*-
# Candidates come from \`k8ts-kubectl __completeNoDesc WORDS...\`: one a line, then ":<directive>"
# (cobra's ShellCompDirective bits: 1 error, 2 no space, 4 no file completion).

__k8ts_kubectl_complete()
{
    local cur="\${COMP_WORDS[COMP_CWORD]}"
    local -a args=("\${COMP_WORDS[@]:1:COMP_CWORD}")
    local out directive
    out=$("\${COMP_WORDS[0]}" __completeNoDesc "\${args[@]}" 2>/dev/null)
    directive=\${out##*:}
    out=\${out%:*}
    [[ $directive =~ ^[0-9]+$ ]] || directive=0
    COMPREPLY=()
    if (( directive & 1 )); then
        return
    fi
    local IFS=$'\\n'
    local candidate
    for candidate in $out; do
        [[ -n $candidate && $candidate == "$cur"* ]] && COMPREPLY+=("$candidate")
    done
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
    if (( \${#COMPREPLY[@]} == 0 )) && (( (directive & 4) == 0 )); then
        COMPREPLY=( $(compgen -f -- "$cur") )
    fi
}

complete -F __k8ts_kubectl_complete k8ts-kubectl
`;

const ZSH = `#compdef k8ts-kubectl
# zsh completion for k8ts-kubectl: candidates (name<TAB>description) from \`k8ts-kubectl __complete WORDS...\`,
# then ":<directive>" (cobra's ShellCompDirective bits: 1 error, 2 no space, 4 no file completion).

_k8ts_kubectl()
{
    local out directive line
    local -a lines described
    out=$(\${words[1]} __complete "\${(@)words[2,$CURRENT]}" 2>/dev/null)
    lines=("\${(@f)out}")
    directive=\${lines[-1]#:}
    lines=("\${(@)lines[1,-2]}")
    [[ $directive == <-> ]] || directive=0
    (( directive & 1 )) && return 1
    for line in $lines; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\\t'* ]]; then
            described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        else
            described+=("\${line//:/\\\\:}")
        fi
    done
    if (( \${#described} )); then
        if (( directive & 2 )); then
            _describe 'k8ts-kubectl' described -S ''
        else
            _describe 'k8ts-kubectl' described
        fi
    elif (( (directive & 4) == 0 )); then
        _files
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _k8ts_kubectl "$@"
else
    compdef _k8ts_kubectl k8ts-kubectl
fi
`;
